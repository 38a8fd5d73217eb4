/* The canonical GPU model table (GPURENT_MODEL_TABLE_VERSION 1).
 *
 * Included once, by models.c. Every figure is the vendor's: the `source`
 * of each entry names the datasheet or whitepaper, and docs/models.md lists
 * the sources in full. Derived figures follow FACTS.md: FP32 = SMs x FP32
 * cores per SM (64 for cc 7.x and 8.0, 128 for 8.6 and later) x 2 x boost
 * clock; they agree with the datasheet figure to its rounding.
 * Memory is the datasheet capacity with GB read as GiB (x 1024); drivers
 * report 1-3 % less (ECC, reserved memory).
 *
 * Rules the tests hold the table to (test_models.c): ids are lower case
 * [a-z0-9-]; every normalised name (id, driver name, alias, family) is
 * unique across the table, except that a family may share a name with
 * nothing; an alias never equals a family name.
 *
 * Changing anything here changes the table digest and with it every match
 * policy digest: raise GPURENT_MODEL_TABLE_VERSION with it. */

#define NV GPURENT_PCI_VENDOR_NVIDIA
#define AMD GPURENT_PCI_VENDOR_AMD
#define PCIE GPURENT_IFACE_PCIE
#define SXM GPURENT_IFACE_SXM
#define PCI1(d) 1, {{NV, d, 0, 0}}
#define APCI1(d) 1, {{AMD, d, 0, 0}}
#define NAMES(n, ...) n, {__VA_ARGS__}

static const gpurent_model model_table[] = {
    /* ---- Hopper ---- */
    {"h100-sxm5-80gb", "h100", "NVIDIA", SXM, 9, 0, 132, 1980, 5120, 81920, 3352000, 66908, PCI1(0x2330),
     NAMES(1, "NVIDIA H100 80GB HBM3"), NAMES(3, "H100 SXM", "H100 SXM5", "H100 80GB HBM3"),
     "NVIDIA H100 Tensor Core GPU datasheet; NVIDIA H100 whitepaper (132 SMs, 1980 MHz)"},
    {"h100-pcie-80gb", "h100", "NVIDIA", PCIE, 9, 0, 114, 1755, 5120, 81920, 2039000, 51217, PCI1(0x2331),
     NAMES(1, "NVIDIA H100 PCIe"), NAMES(3, "H100 PCIe", "H100 PCIe 80GB", "H100 80GB PCIe"),
     "NVIDIA H100 Tensor Core GPU datasheet; NVIDIA H100 whitepaper (114 SMs, 1755 MHz)"},
    {"h100-nvl-94gb", "h100", "NVIDIA", PCIE, 9, 0, 132, 1785, 6144, 96256, 3900000, 60318, PCI1(0x2321),
     NAMES(1, "NVIDIA H100 NVL"), NAMES(2, "H100 NVL", "H100 NVL 94GB"),
     "NVIDIA H100 Tensor Core GPU datasheet (H100 NVL column)"},
    {"h200-sxm-141gb", "h200", "NVIDIA", SXM, 9, 0, 132, 1980, 6144, 144384, 4800000, 66908, PCI1(0x2335),
     NAMES(1, "NVIDIA H200"), NAMES(2, "H200 SXM", "H200 SXM5 141GB"),
     "NVIDIA H200 Tensor Core GPU datasheet (H200 SXM column)"},
    {"h200-nvl-141gb", "h200", "NVIDIA", PCIE, 9, 0, 132, 1785, 6144, 144384, 4800000, 60318, 0, {{0}},
     NAMES(1, "NVIDIA H200 NVL"), NAMES(1, "H200 NVL"),
     "NVIDIA H200 Tensor Core GPU datasheet (H200 NVL column); PCI id not in the table"},
    /* ---- Blackwell ---- */
    {"b200-sxm-180gb", "b200", "NVIDIA", SXM, 10, 0, 148, 0, 8192, 184320, 8000000, 80000, PCI1(0x2901),
     NAMES(1, "NVIDIA B200"), NAMES(2, "B200 SXM", "B200 180GB"),
     "NVIDIA DGX B200 datasheet (1440 GB, 64 TB/s for 8 GPUs); NVIDIA Blackwell technical brief (HGX B200: FP32 80 TFLOPS); boost clock not published"},
    {"rtx5090-32gb", "rtx5090", "NVIDIA", PCIE, 12, 0, 170, 2407, 512, 32768, 1792000, 104752, PCI1(0x2b85),
     NAMES(1, "NVIDIA GeForce RTX 5090"), NAMES(3, "5090", "GeForce RTX 5090", "RTX 5090 32GB"),
     "NVIDIA GeForce RTX 5090 specifications; NVIDIA RTX Blackwell GPU architecture whitepaper"},
    /* ---- Ampere data centre ---- */
    {"a100-sxm4-40gb", "a100", "NVIDIA", SXM, 8, 0, 108, 1410, 5120, 40960, 1555000, 19492, PCI1(0x20b0),
     NAMES(1, "NVIDIA A100-SXM4-40GB"), NAMES(3, "A100 SXM4 40GB", "A100 40GB SXM", "A100-40G"),
     "NVIDIA A100 Tensor Core GPU datasheet; NVIDIA A100 whitepaper (108 SMs, 1410 MHz)"},
    {"a100-sxm4-80gb", "a100", "NVIDIA", SXM, 8, 0, 108, 1410, 5120, 81920, 2039000, 19492, PCI1(0x20b2),
     NAMES(1, "NVIDIA A100-SXM4-80GB"), NAMES(3, "A100 SXM4 80GB", "A100 80GB SXM", "A100-80G"),
     "NVIDIA A100 Tensor Core GPU datasheet; NVIDIA A100 whitepaper"},
    {"a100-pcie-40gb", "a100", "NVIDIA", PCIE, 8, 0, 108, 1410, 5120, 40960, 1555000, 19492, PCI1(0x20f1),
     NAMES(1, "NVIDIA A100-PCIE-40GB"), NAMES(2, "A100 PCIe 40GB", "A100 40GB PCIe"),
     "NVIDIA A100 Tensor Core GPU datasheet; NVIDIA A100 whitepaper"},
    {"a100-pcie-80gb", "a100", "NVIDIA", PCIE, 8, 0, 108, 1410, 5120, 81920, 1935000, 19492, PCI1(0x20b5),
     NAMES(1, "NVIDIA A100 80GB PCIe"), NAMES(2, "A100 PCIe 80GB", "A100 80GB PCIe"),
     "NVIDIA A100 Tensor Core GPU datasheet (A100 80GB PCIe column)"},
    {"a40-48gb", "a40", "NVIDIA", PCIE, 8, 6, 84, 1740, 384, 49152, 696000, 37416, PCI1(0x2235),
     NAMES(1, "NVIDIA A40"), NAMES(1, "A40 48GB"),
     "NVIDIA A40 datasheet; NVIDIA Ampere GA102 GPU architecture whitepaper"},
    {"a10-24gb", "a10", "NVIDIA", PCIE, 8, 6, 72, 1695, 384, 24576, 600000, 31242, PCI1(0x2236),
     NAMES(1, "NVIDIA A10"), NAMES(1, "A10 24GB"),
     "NVIDIA A10 Tensor Core GPU datasheet; NVIDIA Ampere GA102 whitepaper"},
    {"rtx-a6000-48gb", "rtxa6000", "NVIDIA", PCIE, 8, 6, 84, 1800, 384, 49152, 768000, 38707, PCI1(0x2230),
     NAMES(1, "NVIDIA RTX A6000"), NAMES(3, "A6000", "RTX A6000 48GB", "Quadro RTX A6000"),
     "NVIDIA RTX A6000 datasheet; NVIDIA Ampere GA102 whitepaper"},
    /* ---- Ada ---- */
    {"l40s-48gb", "l40s", "NVIDIA", PCIE, 8, 9, 142, 2520, 384, 49152, 864000, 91607, PCI1(0x26b9),
     NAMES(1, "NVIDIA L40S"), NAMES(1, "L40S 48GB"),
     "NVIDIA L40S datasheet; NVIDIA Ada GPU architecture whitepaper"},
    {"l40-48gb", "l40", "NVIDIA", PCIE, 8, 9, 142, 2490, 384, 49152, 864000, 90516, PCI1(0x26b5),
     NAMES(1, "NVIDIA L40"), NAMES(1, "L40 48GB"),
     "NVIDIA L40 datasheet; NVIDIA Ada GPU architecture whitepaper"},
    {"l4-24gb", "l4", "NVIDIA", PCIE, 8, 9, 58, 2040, 192, 24576, 300000, 30289, PCI1(0x27b8),
     NAMES(1, "NVIDIA L4"), NAMES(1, "L4 24GB"),
     "NVIDIA L4 Tensor Core GPU datasheet"},
    {"rtx6000-ada-48gb", "rtx6000ada", "NVIDIA", PCIE, 8, 9, 142, 2505, 384, 49152, 960000, 91054, PCI1(0x26b1),
     NAMES(1, "NVIDIA RTX 6000 Ada Generation"), NAMES(2, "RTX 6000 Ada 48GB", "6000 Ada"),
     "NVIDIA RTX 6000 Ada Generation datasheet"},
    {"rtx4090-24gb", "rtx4090", "NVIDIA", PCIE, 8, 9, 128, 2520, 384, 24576, 1008000, 82575, PCI1(0x2684),
     NAMES(1, "NVIDIA GeForce RTX 4090"), NAMES(3, "4090", "GeForce RTX 4090", "RTX 4090 24GB"),
     "NVIDIA Ada GPU architecture whitepaper (RTX 4090: 128 SMs, 2520 MHz, 21 Gbps x 384-bit)"},
    {"rtx4080-16gb", "rtx4080", "NVIDIA", PCIE, 8, 9, 76, 2505, 256, 16384, 716800, 48737, PCI1(0x2704),
     NAMES(1, "NVIDIA GeForce RTX 4080"), NAMES(3, "4080", "GeForce RTX 4080", "RTX 4080 16GB"),
     "NVIDIA Ada GPU architecture whitepaper (RTX 4080: 76 SMs, 2505 MHz, 22.4 Gbps x 256-bit)"},
    /* ---- Ampere consumer ---- */
    {"rtx3090-24gb", "rtx3090", "NVIDIA", PCIE, 8, 6, 82, 1695, 384, 24576, 936000, 35581, PCI1(0x2204),
     NAMES(1, "NVIDIA GeForce RTX 3090"), NAMES(3, "3090", "GeForce RTX 3090", "RTX 3090 24GB"),
     "NVIDIA Ampere GA102 GPU architecture whitepaper (RTX 3090: 82 SMs, 1695 MHz, 19.5 Gbps x 384-bit)"},
    /* ---- Volta and Turing ---- */
    {"v100-sxm2-16gb", "v100", "NVIDIA", SXM, 7, 0, 80, 1530, 4096, 16384, 900000, 15667, PCI1(0x1db1),
     NAMES(1, "Tesla V100-SXM2-16GB"), NAMES(1, "V100 SXM2 16GB"),
     "NVIDIA Tesla V100 datasheet; NVIDIA Tesla V100 whitepaper (80 SMs, 1530 MHz)"},
    {"v100-sxm2-32gb", "v100", "NVIDIA", SXM, 7, 0, 80, 1530, 4096, 32768, 900000, 15667, PCI1(0x1db5),
     NAMES(1, "Tesla V100-SXM2-32GB"), NAMES(1, "V100 SXM2 32GB"),
     "NVIDIA Tesla V100 datasheet (32 GB)"},
    {"v100-pcie-16gb", "v100", "NVIDIA", PCIE, 7, 0, 80, 1380, 4096, 16384, 900000, 14131, PCI1(0x1db4),
     NAMES(1, "Tesla V100-PCIE-16GB"), NAMES(1, "V100 PCIe 16GB"),
     "NVIDIA Tesla V100 datasheet (PCIe: 1380 MHz, 14 TFLOPS)"},
    {"v100-pcie-32gb", "v100", "NVIDIA", PCIE, 7, 0, 80, 1380, 4096, 32768, 900000, 14131, PCI1(0x1db6),
     NAMES(1, "Tesla V100-PCIE-32GB"), NAMES(1, "V100 PCIe 32GB"),
     "NVIDIA Tesla V100 datasheet (PCIe 32 GB)"},
    {"t4-16gb", "t4", "NVIDIA", PCIE, 7, 5, 40, 1590, 256, 16384, 320000, 8141, PCI1(0x1eb8),
     NAMES(1, "Tesla T4"), NAMES(3, "NVIDIA T4", "T4 16GB", "Tesla T4 16GB"),
     "NVIDIA T4 Tensor Core GPU datasheet; NVIDIA Turing whitepaper (40 SMs, 1590 MHz)"},
    /* ---- AMD Instinct (held for later: no CUDA compute capability) ---- */
    {"mi300x-oam-192gb", "mi300x", "AMD", SXM, 0, 0, 304, 2100, 8192, 196608, 5300000, 163400, APCI1(0x74a1),
     NAMES(1, "AMD Instinct MI300X"), NAMES(2, "Instinct MI300X", "MI300X OAM"),
     "AMD Instinct MI300X accelerator datasheet (304 CUs, 2100 MHz, 5.3 TB/s, FP32 vector 163.4 TFLOPS)"},
    {"mi250x-oam-128gb", "mi250x", "AMD", SXM, 0, 0, 220, 1700, 8192, 131072, 3276800, 47900, APCI1(0x740c),
     NAMES(1, "AMD Instinct MI250X"), NAMES(1, "Instinct MI250X"),
     "AMD Instinct MI250X accelerator datasheet (220 CUs, 1700 MHz, 3.2768 TB/s, FP32 vector 47.9 TFLOPS)"},
    {"mi250-oam-128gb", "mi250", "AMD", SXM, 0, 0, 208, 1700, 8192, 131072, 3276800, 45300, APCI1(0x740c),
     NAMES(1, "AMD Instinct MI250"), NAMES(1, "Instinct MI250"),
     "AMD Instinct MI250 accelerator datasheet (208 CUs, 1700 MHz, 3.2768 TB/s, FP32 vector 45.3 TFLOPS)"},
    {"mi210-pcie-64gb", "mi210", "AMD", PCIE, 0, 0, 104, 1700, 4096, 65536, 1638400, 22600, APCI1(0x740f),
     NAMES(1, "AMD Instinct MI210"), NAMES(1, "Instinct MI210"),
     "AMD Instinct MI210 accelerator datasheet (104 CUs, 1700 MHz, 1.6384 TB/s, FP32 vector 22.6 TFLOPS)"},
};

#undef NV
#undef AMD
#undef PCIE
#undef SXM
#undef PCI1
#undef APCI1
#undef NAMES
