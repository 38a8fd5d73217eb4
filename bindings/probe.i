/* probe: gpurent/probe.h — GPU capability probing through the CUDA driver,
 * loaded at run time. The report record itself (gpurent_gpu_report and its
 * codec) is in wire.h: wire.i owns it (its devices array is reached through
 * gpurent_gpu_report_device() and set_device()). */

/* The driver path is a borrowed char * in C: the binding owns a copy,
 * set with set_driver_path() and freed with the options. */
%ignore gpurent_probe_options::driver_path;
%ignore gpurent_probe_options::sysfs_root;
%extend gpurent_probe_options {
    gpurent_probe_options() {
        gpurent_probe_options *o = (gpurent_probe_options *)calloc(1, sizeof *o);
        if (o) gpurent_probe_options_init(o, GPURENT_PROBE_OPTIONS_VERSION);
        return o;
    }
    ~gpurent_probe_options() {
        free((char *)$self->driver_path);
        free((char *)$self->sysfs_root);
        free($self);
    }
    /* "" = none (then $GPURENT_SYSFS_ROOT, else /sys). */
    void set_sysfs_root(const char *path) {
        free((char *)$self->sysfs_root);
        $self->sysfs_root = (path && *path) ? strdup(path) : NULL;
    }
    const char *get_sysfs_root() const {
        return $self->sysfs_root ? $self->sysfs_root : "";
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

/* Probing loads the driver, waits for cuInit (up to the time limit) and may
 * run active checks: Python releases the GIL. */
%gpurent_long_call(gpurent_probe_run)
%gpurent_long_call(gpurent_probe_run_isolated)

%include <gpurent/probe.h>
