/* probe: gpurent/probe.h — GPU capability probing through the CUDA driver,
 * loaded at run time. The report record itself (gpurent_gpu_report and its
 * codec) is in wire.h (wire.i); this file makes it safe to own from the
 * bindings and adds what the C arrays need. */

/* The driver path is a borrowed char * in C: the binding owns a copy,
 * set with set_driver_path() and freed with the options. */
%ignore gpurent_probe_options::driver_path;
%extend gpurent_probe_options {
    gpurent_probe_options() {
        gpurent_probe_options *o = (gpurent_probe_options *)calloc(1, sizeof *o);
        if (o) gpurent_probe_options_init(o, GPURENT_PROBE_OPTIONS_VERSION);
        return o;
    }
    ~gpurent_probe_options() {
        free((char *)$self->driver_path);
        free($self);
    }
    /* "" = none (then $GPURENT_CUDA_LIBRARY, else libcuda.so.1). */
    void set_driver_path(const char *path) {
        free((char *)$self->driver_path);
        $self->driver_path = (path && *path) ? strdup(path) : NULL;
    }
    const char *get_driver_path() const {
        return $self->driver_path ? $self->driver_path : "";
    }
}

/* A report's devices: read with gpurent_gpu_report_device(), written with
 * set_device() (the array is not exposed raw). */
%ignore gpurent_gpu_report::devices;
%extend gpurent_gpu_report {
    gpurent_gpu_report() {
        gpurent_gpu_report *r = (gpurent_gpu_report *)calloc(1, sizeof *r);
        if (r) gpurent_gpu_report_init(r);
        return r;
    }
    ~gpurent_gpu_report() {
        free($self);
    }
    /* Copy `dev` into slot i (< GPURENT_GPU_REPORT_MAX_DEVICES); device_count
     * grows to i + 1 if needed. Returns 0, or -1 when i is out of range. */
    int set_device(uint32_t i, const gpurent_probe_device *dev) {
        if (i >= GPURENT_GPU_REPORT_MAX_DEVICES || !dev) return -1;
        $self->devices[i] = *dev;
        if ($self->device_count <= i) $self->device_count = i + 1;
        return 0;
    }
}

/* Probing loads the driver, waits for cuInit (up to the time limit) and may
 * run active checks: Python releases the GIL. */
%gpurent_long_call(gpurent_probe_run)

%include <gpurent/probe.h>
