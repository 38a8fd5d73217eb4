/* The product ids of a probed GPU, read from Linux sysfs at the PCI address
 * the driver reported: <root>/bus/pci/devices/DDDD:BB:DD.0/vendor, device,
 * subsystem_vendor, subsystem_device, each one line "0x10de". The driver
 * gives the slot, not the product: these files say which product sits in
 * it. Nothing here can fail the probe: a missing or odd file leaves the
 * ids 0 ("not known"). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "probe_internal.h"

/* One id file: "0x" then 1..4 hex digits, an optional newline, nothing
 * else. 1 and the value on success, 0 otherwise. */
static int read_id(const char *dir, const char *name, uint32_t *out)
{
    char path[GPURENT_SYSFS_ROOT_MAX + 96];
    char buf[16];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd;
    do fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) return 0;
    ssize_t n;
    do n = read(fd, buf, sizeof buf - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n < 3) return 0;
    buf[n] = '\0';
    if (buf[n - 1] == '\n') buf[--n] = '\0';
    if (buf[0] != '0' || (buf[1] != 'x' && buf[1] != 'X') || n < 3 || n > 6) return 0;
    uint32_t v = 0;
    for (ssize_t i = 2; i < n; i++) {
        char c = buf[i];
        uint32_t digit = c >= '0' && c <= '9'   ? (uint32_t)(c - '0')
                         : c >= 'a' && c <= 'f' ? (uint32_t)(c - 'a' + 10)
                         : c >= 'A' && c <= 'F' ? (uint32_t)(c - 'A' + 10)
                                                : 16u;
        if (digit > 15) return 0;
        v = v * 16 + digit;
    }
    *out = v;
    return 1;
}

void gr_probe_pci_ids(const char *root, gpurent_probe_device *d)
{
    d->pci_vendor_id = d->pci_device_id = d->pci_subsystem_vendor_id = d->pci_subsystem_device_id = 0;
    if (!root || !root[0] || d->pci_domain.state != GPURENT_PV_OK || d->pci_bus.state != GPURENT_PV_OK ||
        d->pci_device.state != GPURENT_PV_OK)
        return;
    /* sysfs names a PCI function DDDD:BB:DD.F with a four-digit domain
     * (wider domains print wider); GPUs are function 0. */
    char dir[GPURENT_SYSFS_ROOT_MAX + 64];
    snprintf(dir, sizeof dir, "%s/bus/pci/devices/%04x:%02x:%02x.0", root, (unsigned)d->pci_domain.value,
             (unsigned)d->pci_bus.value, (unsigned)d->pci_device.value);
    uint32_t ids[4];
    if (!read_id(dir, "vendor", &ids[0]) || !read_id(dir, "device", &ids[1]) ||
        !read_id(dir, "subsystem_vendor", &ids[2]) || !read_id(dir, "subsystem_device", &ids[3]))
        return;
    /* 0 and 0xffff are not vendors (0xffff is what a vanished device reads as) */
    if (ids[0] == 0 || ids[0] == 0xffff) return;
    d->pci_vendor_id = ids[0];
    d->pci_device_id = ids[1];
    d->pci_subsystem_vendor_id = ids[2];
    d->pci_subsystem_device_id = ids[3];
}
