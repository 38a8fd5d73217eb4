/* A fake sysfs tree for the fake driver's machines: the PCI ids the probe
 * reads at <root>/bus/pci/devices/DDDD:BB:DD.0/{vendor,device,
 * subsystem_vendor,subsystem_device}. Tests build it in a temporary folder
 * and point the probe at it (gpurent_probe_options.sysfs_root or
 * $GPURENT_SYSFS_ROOT). The ids are those of the real products
 * (docs/probe.md); each A100 of the 8-GPU node gets its own subsystem
 * device id (0x1460 + its bus's index) so a test can tell that every device
 * was read at its own address. */
#ifndef GPURENT_FAKESYSFS_H
#define GPURENT_FAKESYSFS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct fakesysfs_dev {
    unsigned bus;
    unsigned vendor, device, sub_vendor, sub_device;
} fakesysfs_dev;

/* h100 (bus 0x1b), a100x8 (buses 07 0f 47 4e 87 90 b7 bd); rtx4090 (bus
 * 01) is left out on purpose: a device without an entry. */
static const fakesysfs_dev fakesysfs_devs[] = {
    {0x1b, 0x10de, 0x2330, 0x10de, 0x16c1},
    {0x07, 0x10de, 0x20b2, 0x10de, 0x1460}, {0x0f, 0x10de, 0x20b2, 0x10de, 0x1461},
    {0x47, 0x10de, 0x20b2, 0x10de, 0x1462}, {0x4e, 0x10de, 0x20b2, 0x10de, 0x1463},
    {0x87, 0x10de, 0x20b2, 0x10de, 0x1464}, {0x90, 0x10de, 0x20b2, 0x10de, 0x1465},
    {0xb7, 0x10de, 0x20b2, 0x10de, 0x1466}, {0xbd, 0x10de, 0x20b2, 0x10de, 0x1467},
};

static int fakesysfs_mkdirs(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0700) && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(tmp, 0700) && errno != EEXIST ? -1 : 0;
}

/* Write one file `name` holding `text` in `dir`. */
static int fakesysfs_write(const char *dir, const char *name, const char *text)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

/* The folder of the device at `bus` (domain 0, device 0, function 0). */
static void fakesysfs_dir(const char *root, unsigned bus, char *out, size_t cap)
{
    snprintf(out, cap, "%s/bus/pci/devices/0000:%02x:00.0", root, bus);
}

/* Make a fresh tree under a new temporary folder; its path goes to `root`
 * (at least 256 bytes). 0 on success. */
static int fakesysfs_create(char *root, size_t cap)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(root, cap, "%s/gpurent-sysfs-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) return -1;
    for (size_t i = 0; i < sizeof fakesysfs_devs / sizeof fakesysfs_devs[0]; i++) {
        const fakesysfs_dev *d = &fakesysfs_devs[i];
        char dir[1024], v[4][16];
        fakesysfs_dir(root, d->bus, dir, sizeof dir);
        snprintf(v[0], sizeof v[0], "0x%04x\n", d->vendor);
        snprintf(v[1], sizeof v[1], "0x%04x\n", d->device);
        snprintf(v[2], sizeof v[2], "0x%04x\n", d->sub_vendor);
        snprintf(v[3], sizeof v[3], "0x%04x\n", d->sub_device);
        if (fakesysfs_mkdirs(dir) || fakesysfs_write(dir, "vendor", v[0]) || fakesysfs_write(dir, "device", v[1]) ||
            fakesysfs_write(dir, "subsystem_vendor", v[2]) || fakesysfs_write(dir, "subsystem_device", v[3]))
            return -1;
    }
    return 0;
}

/* Remove the tree (only what fakesysfs_create made, plus files a test wrote
 * into the device folders). */
static void fakesysfs_remove(const char *root)
{
    static const char *files[] = {"vendor", "device", "subsystem_vendor", "subsystem_device"};
    char dir[1024], path[1200];
    for (size_t i = 0; i < sizeof fakesysfs_devs / sizeof fakesysfs_devs[0]; i++) {
        fakesysfs_dir(root, fakesysfs_devs[i].bus, dir, sizeof dir);
        for (size_t f = 0; f < 4; f++) {
            snprintf(path, sizeof path, "%s/%s", dir, files[f]);
            unlink(path);
        }
        rmdir(dir);
    }
    snprintf(path, sizeof path, "%s/bus/pci/devices", root);
    rmdir(path);
    snprintf(path, sizeof path, "%s/bus/pci", root);
    rmdir(path);
    snprintf(path, sizeof path, "%s/bus", root);
    rmdir(path);
    rmdir(root);
}

#endif
