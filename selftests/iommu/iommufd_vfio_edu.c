// SPDX-License-Identifier: GPL-2.0
/*
 * Real DMA through a VFIO container, with QEMU's edu device behind an
 * emulated IOMMU ("Real-device suites" in Documentation/build-and-test.rst). The same tests run
 * against stock vfio_iommu_type1 and against our backend
 * (iommufd_oot_vfio.ko): they prove that whichever driver answers the
 * container does real DMA the way unmodified programs expect.
 *
 * - edu's DMA engine copies RAM -> device -> RAM through mapped IOVAs and
 *   the data arrives, byte for byte and nowhere else; after UNMAP the
 *   same DMA writes nothing (a sentinel stays) and reads nothing; a
 *   READ-only mapping blocks device writes; pages mapped one by one in
 *   any order, THP and hugetlb memory mapped at offsets: every byte lands
 *   where the CPU sees it, and nowhere else;
 * - the call sequences of QEMU's container backend, DPDK, crosvm and
 *   cloud-hypervisor (rust-vmm's vfio-ioctls), each as that program makes
 *   them, with the checks that program makes on the results;
 * - the group and container rules (one container per group, one opener
 *   per group, EBUSY while a device is open, two groups sharing a
 *   container, two containers isolated from each other, EPERM for a group
 *   without isolated MSI unless allow_unsafe_interrupts) and every close
 *   order;
 * - accounting: VmLck + VmPin grow by what is mapped, not for a BAR, and
 *   return to where they started; RLIMIT_MEMLOCK is enforced to the page
 *   without CAP_IPC_LOCK.
 *
 * edu (QEMU's hw/misc/edu.c, PCI 1234:11e8): BAR0 is 1 MiB of registers;
 * 0x00 reads 0x010000ed, 0x04 reads back the complement of what was
 * written; the DMA engine takes its source at 0x80, destination at 0x88,
 * count at 0x90 and command at 0x98 (bit 0 start, bit 1 set: device
 * buffer -> RAM, clear: RAM -> device buffer) and clears bit 0 when done,
 * about 100 ms of virtual time later, whether the IOMMU let the transfer
 * through or not. Its buffer is 4 KiB at device address 0x40000, and it
 * masks bus addresses to 28 bits, so every IOVA here is below 256 MiB.
 * QEMU 7.2's edu aborts the whole VM on a transfer outside its buffer
 * (and on a zero count), so every transfer here stays strictly inside.
 * Writing a value to 0x60 ORs it into the interrupt status (0x24) and
 * raises edu's interrupt, an MSI once MSI is enabled; 0x64 clears the
 * bits written to it.
 *
 * Environment (tools/vm/init.sh sets it in the real-device VM):
 *   IOMMUFD_EDU_IOMMU_TYPE    type1, type1v2 (default) or a number: the
 *                             IOMMU type of the generic tests
 *   IOMMUFD_EDU_EXPECT_MODULE the module that must end up serving each
 *                             container (its refcount grows by one at
 *                             VFIO_SET_IOMMU); unset: not checked
 *   IOMMUFD_EDU_DEVICES       PCI addresses to use (default: every edu
 *                             bound to vfio-pci)
 *   IOMMUFD_EDU_MSI_ISOLATED  1 if the IOMMU isolates MSIs (VT-d with
 *                             interrupt remapping), 0 if not (virtio-iommu)
 * Without an edu device bound to vfio-pci every test SKIPs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "iommufd_utils.h"

#define PAGE_SZ 4096UL
#define SZ_1M 0x100000UL
#define SZ_2M 0x200000UL

/* edu's registers and buffer. */
#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_REG_ID 0x00
#define EDU_ID_VALUE 0x010000edU
#define EDU_REG_LIVENESS 0x04
#define EDU_REG_IRQ_STATUS 0x24
#define EDU_REG_IRQ_RAISE 0x60
#define EDU_REG_IRQ_ACK 0x64
#define EDU_REG_DMA_SRC 0x80
#define EDU_REG_DMA_DST 0x88
#define EDU_REG_DMA_CNT 0x90
#define EDU_REG_DMA_CMD 0x98
#define EDU_DMA_START 0x1
#define EDU_DMA_TO_RAM 0x2
#define EDU_BUF 0x40000UL
#define EDU_BUF_SIZE 4096UL
#define EDU_BAR_SIZE SZ_1M
/* Transfers end before the buffer's last byte (see above). */
#define EDU_MAX_XFER 2048UL
#define EDU_DMA_LIMIT 0x10000000UL
#define EDU_DMA_TIMEOUT_MS 10000

/* IOVAs, all below edu's 28-bit limit and clear of 128 MiB (virtio-iommu's
 * default software MSI window).
 */
#define IOVA_IN 0x01000000UL
#define IOVA_OUT 0x02000000UL
#define IOVA_MORE 0x03000000UL
#define IOVA_HUGE 0x04000000UL
#define IOVA_BAR 0x0a000000UL

#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define SENTINEL 0xa5
#define MAX_EDUS 2
#define BUF_LEN (64 * PAGE_SZ)

/* --- Environment ---------------------------------------------------- */

/* The IOMMU type of the generic tests. */
static unsigned long edu_iommu_type(void)
{
	const char *s = getenv("IOMMUFD_EDU_IOMMU_TYPE");

	if (!s || !*s || !strcmp(s, "type1v2"))
		return VFIO_TYPE1v2_IOMMU;
	if (!strcmp(s, "type1"))
		return VFIO_TYPE1_IOMMU;
	return strtoul(s, NULL, 0);
}

/* Tests that replay a program ask for the type that program names. */
static bool edu_type_is_type1(void)
{
	unsigned long t = edu_iommu_type();

	return t == VFIO_TYPE1_IOMMU || t == VFIO_TYPE1v2_IOMMU;
}

static long module_refcnt(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	return sysfile_read_long(path);
}

/* Pinned memory as the process sees it: type1 charges VmLck. */
static long locked_kb(void)
{
	return proc_status_kb("VmLck") + proc_status_kb("VmPin");
}

/*
 * RLIMIT_MEMLOCK is enforced on locked_vm (VmLck) alone, by type1 and by
 * our backend. Without CAP_IPC_LOCK our backend also counts its pins in
 * pinned_vm (VmPin), as the module counts every pin, so the sum above
 * grows twice there: the limit's own test reads VmLck.
 */
static long vmlck_kb(void)
{
	return proc_status_kb("VmLck");
}

/* --- Finding edu devices -------------------------------------------- */

struct edu_dev {
	char addr[32];
	int group_id;
};

static int sysfs_hex(const char *dir, const char *file, unsigned long *val)
{
	char path[PATH_MAX];
	char buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	*val = strtoul(buf, NULL, 16);
	return 0;
}

/* Copy @src into @out of @len bytes, cut short if need be. */
static void copy_name(char *out, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(out, src, n);
	out[n] = 0;
}

/* The last path component of symlink @dir/@link, or "" */
static void sysfs_link_name(const char *dir, const char *link, char *out,
			    size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	char *slash;

	snprintf(path, sizeof(path), "%s/%s", dir, link);
	n = readlink(path, target, sizeof(target) - 1);
	out[0] = 0;
	if (n <= 0)
		return;
	target[n] = 0;
	slash = strrchr(target, '/');
	copy_name(out, len, slash ? slash + 1 : target);
}

static bool edu_wanted(const char *addr)
{
	const char *list = getenv("IOMMUFD_EDU_DEVICES");

	return !list || !*list || strstr(list, addr);
}

static int edu_dev_cmp(const void *a, const void *b)
{
	return strcmp(((const struct edu_dev *)a)->addr,
		      ((const struct edu_dev *)b)->addr);
}

/* Every edu bound to vfio-pci, in address order; returns how many. */
static int edu_find(struct edu_dev *devs, int max)
{
	const char *root = "/sys/bus/pci/devices";
	char dir[PATH_MAX], name[64];
	unsigned long vendor, device;
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = opendir(root);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		if (de->d_name[0] == '.' || !edu_wanted(de->d_name))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", root, de->d_name);
		if (sysfs_hex(dir, "vendor", &vendor) ||
		    sysfs_hex(dir, "device", &device) ||
		    vendor != EDU_VENDOR || device != EDU_DEVICE)
			continue;
		sysfs_link_name(dir, "driver", name, sizeof(name));
		if (strcmp(name, "vfio-pci"))
			continue;
		sysfs_link_name(dir, "iommu_group", name, sizeof(name));
		if (!name[0])
			continue;
		copy_name(devs[n].addr, sizeof(devs[n].addr), de->d_name);
		devs[n].group_id = atoi(name);
		n++;
	}
	closedir(d);
	qsort(devs, n, sizeof(*devs), edu_dev_cmp);
	return n;
}

/* --- Containers, groups and devices, each call as -errno ------------ */

static int container_open(void)
{
	int fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		close(fd);
		return -EPROTO;
	}
	return fd;
}

static int check_extension(int c, unsigned long ext)
{
	int rc = ioctl(c, VFIO_CHECK_EXTENSION, ext);

	return rc < 0 ? -errno : rc;
}

/* VFIO_SET_IOMMU; *@module_delta: how the expected module's refcount moved. */
static int set_iommu(int c, unsigned long type, long *module_delta)
{
	const char *mod = getenv("IOMMUFD_EDU_EXPECT_MODULE");
	long before = mod ? module_refcnt(mod) : 0;
	int rc;

	rc = ioctl(c, VFIO_SET_IOMMU, type) ? -errno : 0;
	*module_delta = mod ? module_refcnt(mod) - before : 1;
	return rc;
}

static int group_open(int group_id)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/vfio/%d", group_id);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int group_status(int g, __u32 *flags)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };

	if (ioctl(g, VFIO_GROUP_GET_STATUS, &st))
		return -errno;
	*flags = st.flags;
	return 0;
}

static int group_set_container(int g, int c)
{
	return ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) ? -errno : 0;
}

static int group_unset_container(int g)
{
	return ioctl(g, VFIO_GROUP_UNSET_CONTAINER) ? -errno : 0;
}

static int dma_map(int c, void *va, __u64 iova, __u64 size, __u32 flags)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = flags,
		.vaddr = (__u64)(uintptr_t)va,
		.iova = iova,
		.size = size,
	};

	return ioctl(c, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

/* UNMAP_DMA; *@unmapped gets the size the kernel reports, also on error. */
static int dma_unmap_flags(int c, __u64 iova, __u64 size, __u32 flags,
			   __u64 *unmapped)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.flags = flags,
		.iova = iova,
		.size = size,
	};
	int rc;

	rc = ioctl(c, VFIO_IOMMU_UNMAP_DMA, &unmap) ? -errno : 0;
	if (unmapped)
		*unmapped = unmap.size;
	return rc;
}

static int dma_unmap(int c, __u64 iova, __u64 size, __u64 *unmapped)
{
	return dma_unmap_flags(c, iova, size, 0, unmapped);
}

/*
 * VFIO_IOMMU_GET_INFO the way QEMU and crosvm call it: with the bare
 * struct first, then again with the size the kernel asked for. Returns a
 * malloc()ed buffer of *@len bytes, or NULL with errno set.
 */
static struct vfio_iommu_type1_info *iommu_info(int c, __u32 *len)
{
	struct vfio_iommu_type1_info *info;
	__u32 argsz = sizeof(*info);

	for (int round = 0; round < 2; round++) {
		info = calloc(1, argsz);
		if (!info)
			return NULL;
		info->argsz = argsz;
		if (ioctl(c, VFIO_IOMMU_GET_INFO, info)) {
			free(info);
			return NULL;
		}
		if (info->argsz <= argsz) {
			*len = argsz;
			return info;
		}
		argsz = info->argsz;
		free(info);
	}
	errno = EMSGSIZE;
	return NULL;
}

/*
 * The capability @id of an info buffer, or NULL. *@ok is cleared if the
 * chain is malformed: a header outside the buffer or an offset that does
 * not move forward (a loop).
 */
static struct vfio_info_cap_header *info_cap(void *buf, __u32 len,
					     __u32 first, __u16 id, bool *ok)
{
	__u32 off = first, prev = 0;

	while (off) {
		struct vfio_info_cap_header *hdr = buf + off;

		if (off <= prev || off + sizeof(*hdr) > len) {
			*ok = false;
			return NULL;
		}
		if (hdr->id == id)
			return hdr;
		prev = off;
		off = hdr->next;
	}
	return NULL;
}

/* --- One edu device through VFIO ------------------------------------ */

struct edu {
	struct edu_dev dev;
	int group;
	int device;
	__u8 *bar;
	__u64 cfg_offset;
};

static int region_info(int device, __u32 index, struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	return ioctl(device, VFIO_DEVICE_GET_REGION_INFO, ri) ? -errno : 0;
}

/*
 * Register accesses: relaxed atomics are single loads and stores of the
 * register's width that the compiler may neither drop nor merge.
 */
static __u32 edu_read32(struct edu *e, unsigned int reg)
{
	return __atomic_load_n((__u32 *)(e->bar + reg), __ATOMIC_RELAXED);
}

static void edu_write32(struct edu *e, unsigned int reg, __u32 val)
{
	__atomic_store_n((__u32 *)(e->bar + reg), val, __ATOMIC_RELAXED);
}

static __u64 edu_read64(struct edu *e, unsigned int reg)
{
	return __atomic_load_n((__u64 *)(e->bar + reg), __ATOMIC_RELAXED);
}

static void edu_write64(struct edu *e, unsigned int reg, __u64 val)
{
	__atomic_store_n((__u64 *)(e->bar + reg), val, __ATOMIC_RELAXED);
}

/* Memory decoding and bus mastering on, through VFIO's config region. */
static int edu_enable_master(struct edu *e)
{
	__u16 cmd;

	if (pread(e->device, &cmd, sizeof(cmd),
		  e->cfg_offset + PCI_COMMAND) != sizeof(cmd))
		return -EIO;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(e->device, &cmd, sizeof(cmd),
		   e->cfg_offset + PCI_COMMAND) != sizeof(cmd))
		return -EIO;
	return 0;
}

/*
 * The device fd of an edu whose group is in a container with an IOMMU
 * set: BAR0 mapped through the fd's region info, bus mastering on, and
 * the registers answering as edu's do.
 */
static int edu_open_device(struct edu *e)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_region_info bar, cfg;
	void *p;
	int rc;

	e->device = ioctl(e->group, VFIO_GROUP_GET_DEVICE_FD, e->dev.addr);
	if (e->device < 0)
		return -errno;
	if (ioctl(e->device, VFIO_DEVICE_GET_INFO, &di))
		return -errno;
	if (!(di.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    di.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX)
		return -ENODEV;
	rc = region_info(e->device, VFIO_PCI_BAR0_REGION_INDEX, &bar);
	if (rc)
		return rc;
	if (bar.size != EDU_BAR_SIZE || !(bar.flags & VFIO_REGION_INFO_FLAG_MMAP))
		return -ENODEV;
	rc = region_info(e->device, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
	if (rc)
		return rc;
	e->cfg_offset = cfg.offset;
	p = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 e->device, bar.offset);
	if (p == MAP_FAILED)
		return -errno;
	e->bar = p;
	rc = edu_enable_master(e);
	if (rc)
		return rc;
	if (edu_read32(e, EDU_REG_ID) != EDU_ID_VALUE)
		return -ENODEV;
	edu_write32(e, EDU_REG_LIVENESS, 0x12345678);
	if (edu_read32(e, EDU_REG_LIVENESS) != ~0x12345678U)
		return -ENODEV;
	return 0;
}

static void edu_close_device(struct edu *e)
{
	if (e->bar)
		munmap(e->bar, EDU_BAR_SIZE);
	e->bar = NULL;
	if (e->device >= 0)
		close(e->device);
	e->device = -1;
}

static void edu_close(struct edu *e)
{
	edu_close_device(e);
	if (e->group >= 0)
		close(e->group);
	e->group = -1;
}

static void edu_init(struct edu *e, const struct edu_dev *dev)
{
	memset(e, 0, sizeof(*e));
	e->dev = *dev;
	e->group = -1;
	e->device = -1;
}

static __u64 ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* One transfer of edu's DMA engine, waited for. 0 or -ETIMEDOUT. */
static int edu_dma(struct edu *e, __u64 src, __u64 dst, __u32 len, __u32 cmd)
{
	__u64 deadline = ms_now() + EDU_DMA_TIMEOUT_MS;

	edu_write64(e, EDU_REG_DMA_SRC, src);
	edu_write64(e, EDU_REG_DMA_DST, dst);
	edu_write64(e, EDU_REG_DMA_CNT, len);
	edu_write64(e, EDU_REG_DMA_CMD, cmd | EDU_DMA_START);
	while (edu_read64(e, EDU_REG_DMA_CMD) & EDU_DMA_START) {
		if (ms_now() > deadline)
			return -ETIMEDOUT;
		usleep(1000);
	}
	return 0;
}

/* The device reads RAM at @iova into its buffer at @off. */
static int edu_pull(struct edu *e, __u64 iova, __u32 off, __u32 len)
{
	if (!len || len > EDU_MAX_XFER || off + len >= EDU_BUF_SIZE ||
	    iova + len > EDU_DMA_LIMIT)
		return -EINVAL;
	return edu_dma(e, iova, EDU_BUF + off, len, 0);
}

/* The device writes its buffer at @off to RAM at @iova. */
static int edu_push(struct edu *e, __u32 off, __u64 iova, __u32 len)
{
	if (!len || len > EDU_MAX_XFER || off + len >= EDU_BUF_SIZE ||
	    iova + len > EDU_DMA_LIMIT)
		return -EINVAL;
	return edu_dma(e, EDU_BUF + off, iova, len, EDU_DMA_TO_RAM);
}

/* RAM at @src -> device buffer -> RAM at @dst. */
static int edu_copy(struct edu *e, __u64 src, __u64 dst, __u32 len)
{
	int rc = edu_pull(e, src, 0, len);

	return rc ? rc : edu_push(e, 0, dst, len);
}

/* --- Memory ---------------------------------------------------------- */

/* A byte that depends on its position and on @seed. */
static __u8 pattern_byte(size_t pos, unsigned int seed)
{
	__u32 x = (__u32)pos * 2654435761U + seed * 40503U;

	return (__u8)((x >> 13) ^ (x >> 24));
}

static void fill_pattern(void *buf, size_t len, size_t pos, unsigned int seed)
{
	__u8 *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = pattern_byte(pos + i, seed);
}

static bool is_pattern(const void *buf, size_t len, size_t pos,
		       unsigned int seed)
{
	const __u8 *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i] != pattern_byte(pos + i, seed))
			return false;
	return true;
}

static bool all_bytes(const void *buf, size_t len, __u8 val)
{
	const __u8 *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i] != val)
			return false;
	return true;
}

/* @len bytes of private anonymous memory aligned to @align, or NULL. */
static void *map_aligned(size_t len, size_t align, int extra_flags)
{
	size_t span = len + align;
	__u8 *p, *q;

	p = mmap(NULL, span, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | extra_flags, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	q = (__u8 *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	if (q > p)
		munmap(p, q - p);
	if (q + len < p + span)
		munmap(q + len, p + span - (q + len));
	return q;
}

/* 4 KiB pages only, so no test depends on THP by accident. */
static void *map_small_pages(size_t len)
{
	void *p = map_aligned(len, PAGE_SZ, 0);

	if (p) {
		madvise(p, len, MADV_NOHUGEPAGE);
		memset(p, 0, len);
	}
	return p;
}

/* --- The common fixture: one edu in a container of the tested type ---- */

FIXTURE(edu)
{
	struct edu_dev devs[MAX_EDUS];
	int ndevs;
	struct edu e;
	int c;
	__u8 *buf;
	long base_kb;
};

FIXTURE_SETUP(edu)
{
	__u32 flags = 0;
	long delta;

	self->c = -1;
	self->e.group = -1;
	self->e.device = -1;
	self->ndevs = edu_find(self->devs, MAX_EDUS);
	if (!self->ndevs)
		SKIP(return, "no edu device bound to vfio-pci");
	self->base_kb = locked_kb();
	edu_init(&self->e, &self->devs[0]);
	self->c = container_open();
	ASSERT_LE(0, self->c);
	self->e.group = group_open(self->e.dev.group_id);
	ASSERT_LE(0, self->e.group);
	ASSERT_EQ(0, group_status(self->e.group, &flags));
	ASSERT_EQ(VFIO_GROUP_FLAGS_VIABLE, flags);
	ASSERT_EQ(0, group_set_container(self->e.group, self->c));
	ASSERT_EQ(0, set_iommu(self->c, edu_iommu_type(), &delta));
	ASSERT_EQ(1, delta)
		TH_LOG("the container is not served by %s",
		       getenv("IOMMUFD_EDU_EXPECT_MODULE"));
	ASSERT_EQ(0, edu_open_device(&self->e));
	self->buf = map_small_pages(BUF_LEN);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(edu)
{
	if (!self->ndevs)
		return;
	edu_close(&self->e);
	if (self->c >= 0)
		close(self->c);
	if (self->buf)
		munmap(self->buf, BUF_LEN);
	/* Closing the container released every pin and its accounting. */
	EXPECT_EQ(self->base_kb, locked_kb());
}

/* Input at buf, output at buf + 16 pages, each mapped read/write. */
#define IN(self) ((self)->buf)
#define OUT(self) ((self)->buf + 16 * PAGE_SZ)

TEST_F(edu, device_registers_answer_through_the_bar_mmap)
{
	edu_write32(&self->e, EDU_REG_LIVENESS, 0xdeadbeef);
	ASSERT_EQ(~0xdeadbeefU, edu_read32(&self->e, EDU_REG_LIVENESS));
	edu_write64(&self->e, EDU_REG_DMA_SRC, 0x1234000);
	ASSERT_EQ(0x1234000, edu_read64(&self->e, EDU_REG_DMA_SRC));
}

/* Route edu's MSI to @efd (a negative fd: turn MSI off again). */
static int edu_set_msi(struct edu *e, int efd)
{
	char raw[sizeof(struct vfio_irq_set) + sizeof(__s32)] = {};
	struct vfio_irq_set *set = (struct vfio_irq_set *)raw;

	set->argsz = sizeof(raw);
	set->index = VFIO_PCI_MSI_IRQ_INDEX;
	set->flags = VFIO_IRQ_SET_ACTION_TRIGGER;
	if (efd < 0) {
		set->argsz = sizeof(*set);
		set->flags |= VFIO_IRQ_SET_DATA_NONE;
	} else {
		set->flags |= VFIO_IRQ_SET_DATA_EVENTFD;
		set->count = 1;
		memcpy(set->data, &efd, sizeof(efd));
	}
	return ioctl(e->device, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
}

/* Whether @efd fires within @ms; consumes the count. */
static bool eventfd_fires(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	__u64 count;

	if (poll(&p, 1, ms) != 1)
		return false;
	return read(efd, &count, sizeof(count)) == sizeof(count) && count;
}

/*
 * The device's MSI write is a DMA write to the interrupt controller's
 * doorbell, which the container's domain must let through (VT-d's
 * interrupt remapping; virtio-iommu's MSI region). One interrupt per
 * raise, none without one.
 */
TEST_F(edu, msi_of_the_device_reaches_its_eventfd)
{
	struct vfio_irq_info irq = {
		.argsz = sizeof(irq), .index = VFIO_PCI_MSI_IRQ_INDEX,
	};
	int efd, i;

	ASSERT_EQ(0, ioctl(self->e.device, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	if (!irq.count)
		SKIP(return, "this edu has no MSI capability");
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, edu_set_msi(&self->e, efd));
	for (i = 0; i != 3; i++) {
		edu_write32(&self->e, EDU_REG_IRQ_RAISE, 1 << i);
		ASSERT_TRUE(eventfd_fires(efd, 5000))
			TH_LOG("interrupt %d did not arrive", i);
		ASSERT_EQ(1U << i, edu_read32(&self->e, EDU_REG_IRQ_STATUS));
		edu_write32(&self->e, EDU_REG_IRQ_ACK, 1 << i);
		ASSERT_EQ(0, edu_read32(&self->e, EDU_REG_IRQ_STATUS));
	}
	/* Nothing raised, nothing arrives. */
	ASSERT_FALSE(eventfd_fires(efd, 200));
	ASSERT_EQ(0, edu_set_msi(&self->e, -1));
	close(efd);
}

TEST_F(edu, dma_round_trip_delivers_the_data)
{
	ASSERT_EQ(0, dma_map(self->c, IN(self), IOVA_IN, 4 * PAGE_SZ, RW));
	ASSERT_EQ(0, dma_map(self->c, OUT(self), IOVA_OUT, 4 * PAGE_SZ, RW));
	fill_pattern(IN(self), 4 * PAGE_SZ, 0, 1);
	memset(OUT(self), SENTINEL, 4 * PAGE_SZ);

	ASSERT_EQ(0, edu_copy(&self->e, IOVA_IN, IOVA_OUT, EDU_MAX_XFER));
	ASSERT_TRUE(is_pattern(OUT(self), EDU_MAX_XFER, 0, 1));
	/* Exactly the count, nothing after it. */
	ASSERT_TRUE(all_bytes(OUT(self) + EDU_MAX_XFER,
			      4 * PAGE_SZ - EDU_MAX_XFER, SENTINEL));

	/* Odd offsets on both sides, crossing a page on each. */
	ASSERT_EQ(0, edu_pull(&self->e, IOVA_IN + PAGE_SZ - 100, 1000, 300));
	ASSERT_EQ(0, edu_push(&self->e, 1000, IOVA_OUT + 2 * PAGE_SZ - 7, 300));
	ASSERT_TRUE(is_pattern(OUT(self) + 2 * PAGE_SZ - 7, 300,
			       PAGE_SZ - 100, 1));
	ASSERT_EQ(SENTINEL, OUT(self)[2 * PAGE_SZ - 8]);
	ASSERT_EQ(SENTINEL, OUT(self)[2 * PAGE_SZ - 7 + 300]);
}

TEST_F(edu, unmap_blocks_device_writes_and_reads)
{
	__u64 unmapped;

	ASSERT_EQ(0, dma_map(self->c, IN(self), IOVA_IN, PAGE_SZ, RW));
	ASSERT_EQ(0, dma_map(self->c, OUT(self), IOVA_OUT, PAGE_SZ, RW));
	ASSERT_EQ(0, dma_map(self->c, OUT(self) + PAGE_SZ, IOVA_MORE, PAGE_SZ,
			     RW));
	fill_pattern(IN(self), PAGE_SZ, 0, 2);
	memset(OUT(self), SENTINEL, 2 * PAGE_SZ);
	/* Mapped: the write lands. */
	ASSERT_EQ(0, edu_copy(&self->e, IOVA_IN, IOVA_OUT, 1024));
	ASSERT_TRUE(is_pattern(OUT(self), 1024, 0, 2));

	/* Unmapped: the same write leaves the sentinel. */
	memset(OUT(self), SENTINEL, PAGE_SZ);
	ASSERT_EQ(0, dma_unmap(self->c, IOVA_OUT, PAGE_SZ, &unmapped));
	ASSERT_EQ(PAGE_SZ, unmapped);
	ASSERT_EQ(0, edu_push(&self->e, 0, IOVA_OUT, 1024));
	ASSERT_TRUE(all_bytes(OUT(self), PAGE_SZ, SENTINEL));

	/*
	 * Unmapped source: the device must not see the new data. What it
	 * reads instead is the emulator's business (zeros in QEMU); either
	 * its buffer keeps the old data or it holds those zeros.
	 */
	ASSERT_EQ(0, dma_unmap(self->c, IOVA_IN, PAGE_SZ, &unmapped));
	ASSERT_EQ(PAGE_SZ, unmapped);
	fill_pattern(IN(self), PAGE_SZ, 0, 3);
	ASSERT_EQ(0, edu_pull(&self->e, IOVA_IN, 0, 1024));
	memset(OUT(self) + PAGE_SZ, SENTINEL, PAGE_SZ);
	ASSERT_EQ(0, edu_push(&self->e, 0, IOVA_MORE, 1024));
	ASSERT_FALSE(is_pattern(OUT(self) + PAGE_SZ, 1024, 0, 3));
	ASSERT_TRUE(is_pattern(OUT(self) + PAGE_SZ, 1024, 0, 2) ||
		    all_bytes(OUT(self) + PAGE_SZ, 1024, 0));

	/* Mapped again at the same IOVA: DMA flows again. */
	ASSERT_EQ(0, dma_map(self->c, OUT(self), IOVA_OUT, PAGE_SZ, RW));
	ASSERT_EQ(0, dma_map(self->c, IN(self), IOVA_IN, PAGE_SZ, RW));
	ASSERT_EQ(0, edu_copy(&self->e, IOVA_IN, IOVA_OUT, 1024));
	ASSERT_TRUE(is_pattern(OUT(self), 1024, 0, 3));
}

/* A thread that maps and unmaps one range until told to stop. */
struct flipper {
	int c;
	void *va;
	__u64 iova;
	size_t len;
	bool stop;	/* atomic: set by the test, read by the thread */
	long flips;
	int rc;
};

static void *flip_mapping(void *arg)
{
	struct flipper *f = arg;
	__u64 unmapped;

	while (!__atomic_load_n(&f->stop, __ATOMIC_RELAXED) && !f->rc) {
		f->rc = dma_map(f->c, f->va, f->iova, f->len, RW);
		if (!f->rc)
			f->rc = dma_unmap(f->c, f->iova, f->len, &unmapped);
		if (!f->rc && unmapped != f->len)
			f->rc = -EIO;
		f->flips++;
	}
	return NULL;
}

/*
 * UNMAP racing the device's DMA: one thread maps and unmaps a page of
 * the output over and over while edu writes into it. Every transfer
 * ends; nothing lands outside that page (the guards around it keep
 * their sentinel); no map or unmap fails; and when it is over the charge
 * is back where it started (the fixture's teardown). What lands inside
 * the page is not checked byte for byte: a transfer the IOMMU sees
 * change under it may land in part (a real device splits a write into
 * TLPs, each translated alone), and QEMU's VT-d then reports a fault for
 * the rest, under type1 as under ours.
 */
TEST_F_TIMEOUT(edu, unmap_racing_device_dma_leaves_nothing_behind, 120)
{
	struct flipper f = {
		.c = self->c, .va = OUT(self) + PAGE_SZ, .iova = IOVA_OUT,
		.len = PAGE_SZ,
	};
	int landed = 0, i;
	pthread_t thread;

	ASSERT_EQ(0, dma_map(self->c, IN(self), IOVA_IN, PAGE_SZ, RW));
	fill_pattern(IN(self), PAGE_SZ, 0, 7);
	ASSERT_EQ(0, edu_pull(&self->e, IOVA_IN, 0, 1024));
	memset(OUT(self), SENTINEL, 3 * PAGE_SZ);
	ASSERT_EQ(0, pthread_create(&thread, NULL, flip_mapping, &f));
	for (i = 0; i != 40; i++) {
		ASSERT_EQ(0, edu_push(&self->e, 0, IOVA_OUT, 1024));
		if (is_pattern(OUT(self) + PAGE_SZ, 1024, 0, 7))
			landed++;
		ASSERT_TRUE(all_bytes(OUT(self) + PAGE_SZ + 1024,
				      PAGE_SZ - 1024, SENTINEL));
		memset(OUT(self) + PAGE_SZ, SENTINEL, PAGE_SZ);
	}
	__atomic_store_n(&f.stop, true, __ATOMIC_RELAXED);
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(0, f.rc);
	ASSERT_TRUE(all_bytes(OUT(self), PAGE_SZ, SENTINEL));
	ASSERT_TRUE(all_bytes(OUT(self) + 2 * PAGE_SZ, PAGE_SZ, SENTINEL));
	TH_LOG("%d of 40 transfers landed whole during %ld map/unmap flips",
	       landed, f.flips);
	ASSERT_LT(40, f.flips);

	/* Mapped for good: every transfer lands again. */
	ASSERT_EQ(0, dma_map(self->c, f.va, IOVA_OUT, PAGE_SZ, RW));
	ASSERT_EQ(0, edu_push(&self->e, 0, IOVA_OUT, 1024));
	ASSERT_TRUE(is_pattern(OUT(self) + PAGE_SZ, 1024, 0, 7));
}

TEST_F(edu, read_only_mapping_blocks_device_writes)
{
	ASSERT_EQ(0, dma_map(self->c, IN(self), IOVA_IN, PAGE_SZ,
			     VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, dma_map(self->c, OUT(self), IOVA_OUT, PAGE_SZ, RW));
	fill_pattern(OUT(self), PAGE_SZ, 0, 4);
	memset(IN(self), SENTINEL, PAGE_SZ);

	/* The device writes into the read-only page: nothing changes... */
	ASSERT_EQ(0, edu_pull(&self->e, IOVA_OUT, 0, 1024));
	ASSERT_EQ(0, edu_push(&self->e, 0, IOVA_IN, 1024));
	ASSERT_TRUE(all_bytes(IN(self), PAGE_SZ, SENTINEL));
	/* ...where the same write into a writable page lands. */
	memset(OUT(self) + 2048, SENTINEL, 1024);
	ASSERT_EQ(0, edu_push(&self->e, 0, IOVA_OUT + 2048, 1024));
	ASSERT_TRUE(is_pattern(OUT(self) + 2048, 1024, 0, 4));
	fill_pattern(OUT(self), PAGE_SZ, 0, 4);

	/* It may read it, though. */
	ASSERT_EQ(0, edu_copy(&self->e, IOVA_IN, IOVA_OUT, 1024));
	ASSERT_TRUE(all_bytes(OUT(self), 1024, SENTINEL));
	ASSERT_TRUE(is_pattern(OUT(self) + 1024, PAGE_SZ - 1024, 1024, 4));
}

/*
 * A WRITE-only mapping takes device writes. Whether the device can read it
 * is the IOMMU's business: QEMU's VT-d lets it (only the read-only case
 * is architectural everywhere), so that is reported, not asserted.
 */
TEST_F(edu, write_only_mapping_takes_device_writes)
{
	ASSERT_EQ(0, dma_map(self->c, IN(self), IOVA_IN, PAGE_SZ,
			     VFIO_DMA_MAP_FLAG_WRITE));
	ASSERT_EQ(0, dma_map(self->c, OUT(self), IOVA_OUT, PAGE_SZ, RW));
	memset(IN(self), 0, PAGE_SZ);
	memset(OUT(self), SENTINEL, 1024);
	ASSERT_EQ(0, edu_pull(&self->e, IOVA_OUT, 0, 1024));
	ASSERT_EQ(0, edu_push(&self->e, 0, IOVA_IN, 1024));
	ASSERT_TRUE(all_bytes(IN(self), 1024, SENTINEL));

	fill_pattern(IN(self), PAGE_SZ, 0, 6);
	memset(OUT(self), 0, PAGE_SZ);
	ASSERT_EQ(0, edu_copy(&self->e, IOVA_IN, IOVA_OUT, 1024));
	TH_LOG("a device read of a write-only mapping %s",
	       is_pattern(OUT(self), 1024, 0, 6) ? "went through" :
	       "was blocked");
}

/*
 * Pages mapped one by one, in reverse order, at consecutive IOVAs (the
 * way a vIOMMU-driven VMM such as crosvm maps guest pages): a transfer
 * crossing an IOVA page boundary is split between the right two pages.
 */
TEST_F(edu, scattered_pages_are_translated_page_by_page)
{
	enum { NPAGES = 8 };
	__u64 unmapped;
	int i;

	fill_pattern(IN(self), NPAGES * PAGE_SZ, 0, 7);
	for (i = 0; i < NPAGES; i++)
		ASSERT_EQ(0, dma_map(self->c,
				     IN(self) + (NPAGES - 1 - i) * PAGE_SZ,
				     IOVA_IN + i * PAGE_SZ, PAGE_SZ, RW));
	ASSERT_EQ(0, dma_map(self->c, OUT(self), IOVA_OUT, 2 * PAGE_SZ, RW));
	for (i = 1; i < NPAGES; i += 3) {
		/* 512 bytes before and after the boundary of IOVA pages i-1, i. */
		memset(OUT(self), SENTINEL, 2 * PAGE_SZ);
		ASSERT_EQ(0, edu_copy(&self->e, IOVA_IN + i * PAGE_SZ - 512,
				      IOVA_OUT, 1024));
		ASSERT_TRUE(is_pattern(OUT(self), 512,
				       (NPAGES - i + 1) * PAGE_SZ - 512, 7));
		ASSERT_TRUE(is_pattern(OUT(self) + 512, 512,
				       (NPAGES - 1 - i) * PAGE_SZ, 7));
	}
	/* And writes scatter the same way. */
	fill_pattern(OUT(self), 1024, 0, 8);
	ASSERT_EQ(0, edu_copy(&self->e, IOVA_OUT, IOVA_IN + 4 * PAGE_SZ - 512,
			      1024));
	ASSERT_TRUE(is_pattern(IN(self) + 5 * PAGE_SZ - 512, 512, 0, 8));
	ASSERT_TRUE(is_pattern(IN(self) + 3 * PAGE_SZ, 512, 512, 8));
	for (i = 0; i < NPAGES; i++) {
		ASSERT_EQ(0, dma_unmap(self->c, IOVA_IN + i * PAGE_SZ, PAGE_SZ,
				       &unmapped));
		ASSERT_EQ(PAGE_SZ, unmapped);
	}
}

/* --- Large pages at offsets ------------------------------------------ */

/*
 * Map @len bytes at @va to @iova and move data through the mapping at
 * the offsets of @probes (each a 256-byte transfer, skipped if it does
 * not fit): reads must return what the CPU sees at that offset, writes
 * must land there and nowhere around it. @whole is the memory holding
 * the pattern, @pos the position of @va in it.
 */
static void probe_mapping(struct __test_metadata *_metadata, int c,
			  struct edu *e, __u8 *out, __u8 *whole, size_t pos,
			  __u64 iova, size_t len, const size_t *probes,
			  int nprobes, unsigned int seed)
{
	const __u32 xfer = 256;
	__u8 *va = whole + pos;
	__u64 unmapped;

	ASSERT_EQ(0, dma_map(c, va, iova, len, RW));
	for (int i = 0; i < nprobes; i++) {
		size_t off = probes[i];
		size_t dst = probes[(i + 1) % nprobes];

		if (off + xfer > len || dst + xfer > len)
			continue;
		memset(out, SENTINEL, xfer);
		ASSERT_EQ(0, edu_copy(e, iova + off, IOVA_OUT, xfer));
		ASSERT_TRUE(is_pattern(out, xfer, pos + off, seed))
			TH_LOG("read at mapping offset %#zx", off);
		if (dst == off)
			continue;
		/* The device buffer holds the data of @off: write it at @dst. */
		ASSERT_EQ(0, edu_push(e, 0, iova + dst, xfer));
		ASSERT_TRUE(is_pattern(va + dst, xfer, pos + off, seed))
			TH_LOG("write at mapping offset %#zx", dst);
		if (pos + dst)
			ASSERT_EQ(pattern_byte(pos + dst - 1, seed),
				  va[dst - 1]);
		ASSERT_EQ(pattern_byte(pos + dst + xfer, seed),
			  va[dst + xfer]);
		fill_pattern(va + dst, xfer, pos + dst, seed);
	}
	ASSERT_EQ(0, dma_unmap(c, iova, len, &unmapped));
	ASSERT_EQ(len, unmapped);
}

/*
 * Three mappings of 4 MiB of large pages: IOVA and memory both 2 MiB
 * aligned (large IOPTEs possible), memory 12 KiB into a large page at a
 * 2 MiB aligned IOVA (they are not), and two pages straddling the
 * boundary between the two large pages.
 */
static void large_page_mappings(struct __test_metadata *_metadata, int c,
				struct edu *e, __u8 *out, __u8 *mem,
				unsigned int seed)
{
	const size_t len = 2 * SZ_2M;
	const size_t probes[] = {
		0, PAGE_SZ - 128, SZ_1M + 0x840, SZ_2M - 128, SZ_2M + 0x3000,
		len - 0x5000 - 256,
	};
	const size_t edge[] = { 0, PAGE_SZ - 128, 2 * PAGE_SZ - 256 };

	fill_pattern(mem, len, 0, seed);
	probe_mapping(_metadata, c, e, out, mem, 0, IOVA_HUGE, len, probes,
		      ARRAY_SIZE(probes), seed);
	probe_mapping(_metadata, c, e, out, mem, 0x3000, IOVA_HUGE,
		      len - 0x4000, probes, ARRAY_SIZE(probes), seed);
	probe_mapping(_metadata, c, e, out, mem, SZ_2M - PAGE_SZ,
		      IOVA_HUGE + SZ_2M - PAGE_SZ, 2 * PAGE_SZ, edge,
		      ARRAY_SIZE(edge), seed);
}

TEST_F_TIMEOUT(edu, thp_mappings_at_offsets, 120)
{
	__u8 *mem;

	if (!thp_possible())
		SKIP(return, "transparent huge pages are off");
	ASSERT_EQ(0, dma_map(self->c, OUT(self), IOVA_OUT, PAGE_SZ, RW));
	mem = map_aligned(2 * SZ_2M, SZ_2M, 0);
	ASSERT_NE(NULL, mem);
	ASSERT_EQ(0, madvise(mem, 2 * SZ_2M, MADV_HUGEPAGE));
	memset(mem, 0, 2 * SZ_2M);
	ASSERT_EQ(1, phys_run_aligned(mem, SZ_2M, SZ_2M))
		TH_LOG("the first 2 MiB are not one huge page");
	ASSERT_EQ(1, phys_run_aligned(mem + SZ_2M, SZ_2M, SZ_2M))
		TH_LOG("the second 2 MiB are not one huge page");
	large_page_mappings(_metadata, self->c, &self->e, OUT(self), mem, 9);
	munmap(mem, 2 * SZ_2M);
}

TEST_F_TIMEOUT(edu, hugetlb_mappings_at_offsets, 120)
{
	long saved;
	__u8 *mem;

	if (hugetlb_reserve(2, &saved))
		SKIP(return, "no two free 2 MiB hugetlb pages");
	ASSERT_EQ(0, dma_map(self->c, OUT(self), IOVA_OUT, PAGE_SZ, RW));
	mem = mmap(NULL, 2 * SZ_2M, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (mem == MAP_FAILED) {
		hugetlb_restore(saved);
		SKIP(return, "mmap(MAP_HUGETLB) failed");
	}
	large_page_mappings(_metadata, self->c, &self->e, OUT(self), mem, 10);
	munmap(mem, 2 * SZ_2M);
	hugetlb_restore(saved);
}

/* --- Argument checks (type1's rules) --------------------------------- */

TEST_F(edu, map_and_unmap_refuse_bad_arguments)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = offsetof(struct vfio_iommu_type1_dma_map, size),
		.flags = RW,
		.vaddr = (uintptr_t)IN(self),
		.iova = IOVA_IN,
		.size = PAGE_SZ,
	};
	long kb = locked_kb();
	__u64 unmapped;

	/* argsz short of the struct, no permission, an unknown flag. */
	ASSERT_EQ(-1, ioctl(self->c, VFIO_IOMMU_MAP_DMA, &map));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-EINVAL, dma_map(self->c, IN(self), IOVA_IN, PAGE_SZ, 0));
	ASSERT_EQ(-EINVAL, dma_map(self->c, IN(self), IOVA_IN, PAGE_SZ,
				   RW | (1U << 7)));
	/* Zero size, unaligned size, IOVA or address, and wrapping IOVAs. */
	ASSERT_EQ(-EINVAL, dma_map(self->c, IN(self), IOVA_IN, 0, RW));
	ASSERT_EQ(-EINVAL, dma_map(self->c, IN(self), IOVA_IN, 100, RW));
	ASSERT_EQ(-EINVAL, dma_map(self->c, IN(self), IOVA_IN + 8, PAGE_SZ,
				   RW));
	ASSERT_EQ(-EINVAL, dma_map(self->c, IN(self) + 8, IOVA_IN, PAGE_SZ,
				   RW));
	ASSERT_EQ(-EINVAL, dma_map(self->c, IN(self), -PAGE_SZ, 2 * PAGE_SZ,
				   RW));
	ASSERT_EQ(kb, locked_kb());

	/* Overlaps of an existing mapping: EEXIST, the first one intact. */
	ASSERT_EQ(0, dma_map(self->c, IN(self), IOVA_IN, 2 * PAGE_SZ, RW));
	ASSERT_EQ(-EEXIST, dma_map(self->c, OUT(self), IOVA_IN, 2 * PAGE_SZ,
				   RW));
	ASSERT_EQ(-EEXIST, dma_map(self->c, OUT(self), IOVA_IN + PAGE_SZ,
				   2 * PAGE_SZ, RW));
	ASSERT_EQ(-EEXIST, dma_map(self->c, OUT(self), IOVA_IN - PAGE_SZ,
				   2 * PAGE_SZ, RW));
	ASSERT_EQ(kb + 8, locked_kb());

	/* UNMAP: zero or unaligned size, unaligned IOVA, unknown flag. */
	ASSERT_EQ(-EINVAL, dma_unmap(self->c, IOVA_IN, 0, NULL));
	ASSERT_EQ(-EINVAL, dma_unmap(self->c, IOVA_IN, PAGE_SZ + 1, NULL));
	ASSERT_EQ(-EINVAL, dma_unmap(self->c, IOVA_IN + 1, PAGE_SZ, NULL));
	ASSERT_EQ(-EINVAL, dma_unmap_flags(self->c, IOVA_IN, 2 * PAGE_SZ,
					   1U << 7, NULL));
	/* UNMAP_ALL takes neither an IOVA nor a size. */
	ASSERT_EQ(-EINVAL, dma_unmap_flags(self->c, IOVA_IN, 0,
					   VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	ASSERT_EQ(-EINVAL, dma_unmap_flags(self->c, 0, PAGE_SZ,
					   VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	/* Nothing there: success, nothing unmapped. */
	ASSERT_EQ(0, dma_unmap(self->c, IOVA_OUT, PAGE_SZ, &unmapped));
	ASSERT_EQ(0, unmapped);
	ASSERT_EQ(kb + 8, locked_kb());
	ASSERT_EQ(0, dma_unmap(self->c, IOVA_IN, 2 * PAGE_SZ, &unmapped));
	ASSERT_EQ(2 * PAGE_SZ, unmapped);
	ASSERT_EQ(kb, locked_kb());
}

/* An IOVA the container reports unusable (a reserved region) is refused. */
TEST_F(edu, map_outside_the_reported_iova_ranges_fails)
{
	struct vfio_iommu_type1_info_cap_iova_range *cap;
	struct vfio_iommu_type1_info *info;
	__u64 hole = 0, prev_end = 0;
	bool ok = true, found = false;
	__u32 len;

	info = iommu_info(self->c, &len);
	ASSERT_NE(NULL, info);
	ASSERT_TRUE(info->flags & VFIO_IOMMU_INFO_CAPS);
	cap = (void *)info_cap(info, len, info->cap_offset,
			       VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, &ok);
	ASSERT_TRUE(ok);
	ASSERT_NE(NULL, cap);
	ASSERT_LE(1, cap->nr_iovas);
	for (__u32 i = 0; i < cap->nr_iovas; i++) {
		struct vfio_iova_range *r = &cap->iova_ranges[i];

		ASSERT_LE(r->start, r->end);
		if (i)
			ASSERT_LT(prev_end + 1, r->start)
				TH_LOG("ranges must be sorted and apart");
		if (i && !found && r->start - (prev_end + 1) >= PAGE_SZ) {
			hole = prev_end + 1;
			found = true;
		}
		prev_end = r->end;
	}
	if (!found && prev_end != UINT64_MAX) {
		hole = prev_end + 1;
		found = true;
	}
	/* Our test IOVAs must be usable, or the other tests mean nothing. */
	ASSERT_LE(cap->iova_ranges[0].start, IOVA_IN);
	ASSERT_LE(IOVA_BAR + SZ_1M - 1, cap->iova_ranges[0].end);
	free(info);
	if (!found)
		SKIP(return, "every IOVA is usable");
	hole = (hole + PAGE_SZ - 1) & ~(PAGE_SZ - 1);
	ASSERT_EQ(-EINVAL, dma_map(self->c, IN(self), hole, PAGE_SZ, RW))
		TH_LOG("IOVA %#llx lies outside the reported ranges",
		       (unsigned long long)hole);
}

/* --- Accounting ----------------------------------------------------- */

TEST_F(edu, mapping_is_charged_once_and_returned_at_unmap)
{
	long kb = locked_kb();
	__u64 unmapped;

	ASSERT_EQ(0, dma_map(self->c, IN(self), IOVA_IN, 16 * PAGE_SZ, RW));
	ASSERT_EQ(kb + 64, locked_kb());
	/* A BAR (VM_PFNMAP) is not RAM: mapping it charges nothing. */
	ASSERT_EQ(0, dma_map(self->c, self->e.bar, IOVA_BAR,
			     EDU_BAR_SIZE, RW));
	ASSERT_EQ(kb + 64, locked_kb());
	ASSERT_EQ(0, dma_unmap(self->c, IOVA_BAR, EDU_BAR_SIZE, &unmapped));
	ASSERT_EQ(EDU_BAR_SIZE, unmapped);
	ASSERT_EQ(0, dma_unmap(self->c, IOVA_IN, 16 * PAGE_SZ, &unmapped));
	ASSERT_EQ(16 * PAGE_SZ, unmapped);
	ASSERT_EQ(kb, locked_kb());
}

TEST_F(edu, closing_the_container_with_mappings_returns_the_charge)
{
	ASSERT_EQ(0, dma_map(self->c, IN(self), IOVA_IN, 32 * PAGE_SZ, RW));
	ASSERT_EQ(self->base_kb + 128, locked_kb());
	/* The teardown closes everything and checks the charge is gone. */
}

TEST_F(edu, rlimit_memlock_is_enforced_to_the_page)
{
	const size_t allowed = 16 * PAGE_SZ;
	struct rlimit rl;
	long kb;
	__u64 unmapped;

	ASSERT_EQ(0, cap_drop(CAP_IPC_LOCK));
	kb = vmlck_kb();
	rl.rlim_cur = kb * 1024 + allowed;
	rl.rlim_max = rl.rlim_cur;
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));

	/* Over the limit in one go: refused, nothing left charged. */
	ASSERT_EQ(-ENOMEM, dma_map(self->c, IN(self), IOVA_IN,
				   allowed + PAGE_SZ, RW));
	ASSERT_EQ(kb, vmlck_kb());
	/* Exactly up to the limit, then one page more. */
	ASSERT_EQ(0, dma_map(self->c, IN(self), IOVA_IN, allowed, RW));
	ASSERT_EQ(kb + (long)(allowed / 1024), vmlck_kb());
	ASSERT_EQ(-ENOMEM, dma_map(self->c, OUT(self), IOVA_OUT, PAGE_SZ, RW));
	ASSERT_EQ(kb + (long)(allowed / 1024), vmlck_kb());
	/* A BAR is not charged, so it still maps. */
	ASSERT_EQ(0, dma_map(self->c, self->e.bar, IOVA_BAR,
			     EDU_BAR_SIZE, RW));
	ASSERT_EQ(0, dma_unmap(self->c, IOVA_BAR, EDU_BAR_SIZE, &unmapped));
	/* Unmapping makes room again. */
	ASSERT_EQ(0, dma_unmap(self->c, IOVA_IN, allowed, &unmapped));
	ASSERT_EQ(allowed, unmapped);
	ASSERT_EQ(kb, vmlck_kb());
	ASSERT_EQ(0, dma_map(self->c, OUT(self), IOVA_OUT, PAGE_SZ, RW));
	ASSERT_EQ(0, dma_unmap(self->c, IOVA_OUT, PAGE_SZ, &unmapped));
}

/* --- Program call sequences ------------------------------------------ */

/*
 * A container, its first group and the IOMMU type, in the order every
 * program here does it: API version, CHECK_EXTENSION of the type (exactly
 * 1, as vfio-ioctls insists), group status exactly VIABLE (crosvm and
 * vfio-ioctls compare with ==), SET_CONTAINER, then SET_IOMMU.
 */
static void program_setup(struct __test_metadata *_metadata, struct edu *e,
			  const struct edu_dev *dev, int *c, unsigned long type)
{
	__u32 flags = 0;
	long delta;

	edu_init(e, dev);
	*c = container_open();
	ASSERT_LE(0, *c);
	ASSERT_EQ(1, check_extension(*c, type));
	e->group = group_open(dev->group_id);
	ASSERT_LE(0, e->group);
	ASSERT_EQ(0, group_status(e->group, &flags));
	ASSERT_EQ(VFIO_GROUP_FLAGS_VIABLE, flags);
	ASSERT_EQ(0, group_set_container(e->group, *c));
	ASSERT_EQ(0, group_status(e->group, &flags));
	ASSERT_EQ(VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET,
		  flags);
	ASSERT_EQ(0, set_iommu(*c, type, &delta));
	ASSERT_EQ(1, delta)
		TH_LOG("the container is not served by %s",
		       getenv("IOMMUFD_EDU_EXPECT_MODULE"));
	ASSERT_EQ(0, edu_open_device(e));
}

/* --- Tests that set up their own containers -------------------------- */

FIXTURE(bare)
{
	struct edu_dev devs[MAX_EDUS];
	int ndevs;
	long base_kb;
};

FIXTURE_SETUP(bare)
{
	self->ndevs = edu_find(self->devs, MAX_EDUS);
	if (!self->ndevs)
		SKIP(return, "no edu device bound to vfio-pci");
	self->base_kb = locked_kb();
}

FIXTURE_TEARDOWN(bare)
{
	if (self->ndevs)
		EXPECT_EQ(self->base_kb, locked_kb());
}

static long expected_module_refcnt(void)
{
	const char *mod = getenv("IOMMUFD_EDU_EXPECT_MODULE");

	return mod ? module_refcnt(mod) : 0;
}

/* A container's capability @id, checked to be well formed. */
static void *cap_of(struct __test_metadata *_metadata,
		    struct vfio_iommu_type1_info *info, __u32 len, __u16 id)
{
	struct vfio_info_cap_header *hdr;
	bool ok = true;

	hdr = info_cap(info, len, info->cap_offset, id, &ok);
	EXPECT_TRUE(ok) TH_LOG("malformed capability chain");
	return hdr;
}

/*
 * QEMU's container backend (hw/vfio/container.c): TYPE1v2; GET_INFO
 * sized by the kernel, its capability chain walked for the IOVA ranges,
 * DMA_AVAIL and migration; RAM regions and the device's own mmapped BAR
 * (a ram_device region) mapped; teardown unmaps everything at once, with
 * UNMAP_ALL when CHECK_EXTENSION offers it and otherwise in two halves,
 * [0, 2^63) then [2^63, 2^64), since a size cannot be 2^64; then the
 * group leaves the container.
 */
TEST_F_TIMEOUT(bare, qemu_container_backend_sequence, 90)
{
	const size_t ram_len = 16 * PAGE_SZ;
	struct vfio_iommu_type1_info_cap_iova_range *ranges;
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_iommu_type1_info_cap_migration *mig;
	struct vfio_iommu_type1_info *info;
	__u8 *ram_lo, *ram_hi;
	__u32 len, avail_before;
	__u64 unmapped;
	long refs;
	struct edu e;
	int c;

	if (!edu_type_is_type1())
		SKIP(return, "the program asks for type1 by name");
	program_setup(_metadata, &e, &self->devs[0], &c, VFIO_TYPE1v2_IOMMU);
	/* QEMU's probe order: TYPE1v2, then TYPE1; both answered. */
	ASSERT_EQ(1, check_extension(c, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(1, check_extension(c, VFIO_TYPE1_IOMMU));

	info = iommu_info(c, &len);
	ASSERT_NE(NULL, info);
	ASSERT_TRUE(info->flags & VFIO_IOMMU_INFO_PGSIZES);
	/* The smallest IOMMU page is the CPU's. */
	ASSERT_EQ(PAGE_SZ, info->iova_pgsizes & -info->iova_pgsizes);
	ASSERT_TRUE(info->flags & VFIO_IOMMU_INFO_CAPS);
	ASSERT_LE(sizeof(*info), info->cap_offset);
	ASSERT_GT(len, info->cap_offset);
	ranges = cap_of(_metadata, info, len,
			VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	ASSERT_NE(NULL, ranges);
	ASSERT_EQ(1, ranges->header.version);
	ASSERT_LE(1, ranges->nr_iovas);
	avail = cap_of(_metadata, info, len, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	ASSERT_NE(NULL, avail);
	avail_before = avail->avail;
	ASSERT_LT(3, avail_before);
	/* Without it QEMU refuses to migrate a VM with the device. */
	mig = cap_of(_metadata, info, len, VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION);
	ASSERT_NE(NULL, mig);
	ASSERT_EQ(PAGE_SZ, mig->pgsize_bitmap);
	ASSERT_EQ(1ULL << 28, mig->max_dirty_bitmap_size);
	TH_LOG("page sizes %#llx, %u IOVA range(s) from %#llx, %u mappings available%s",
	       (unsigned long long)info->iova_pgsizes, ranges->nr_iovas,
	       (unsigned long long)ranges->iova_ranges[0].start,
	       avail_before, mig ? ", migration capability" : "");
	free(info);

	/* RAM in two regions, then the BAR, as QEMU's memory listener does. */
	ram_lo = map_small_pages(ram_len);
	ram_hi = map_small_pages(ram_len);
	ASSERT_NE(NULL, ram_lo);
	ASSERT_NE(NULL, ram_hi);
	ASSERT_EQ(0, dma_map(c, ram_lo, IOVA_IN, ram_len, RW));
	ASSERT_EQ(0, dma_map(c, ram_hi, IOVA_MORE, ram_len, RW));
	ASSERT_EQ(0, dma_map(c, e.bar, IOVA_BAR, EDU_BAR_SIZE, RW));
	info = iommu_info(c, &len);
	ASSERT_NE(NULL, info);
	avail = cap_of(_metadata, info, len, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	ASSERT_NE(NULL, avail);
	/* One entry per mapping, unless the backend has no limit at all. */
	if (avail_before != UINT32_MAX)
		ASSERT_EQ(avail_before - 3, avail->avail);
	free(info);
	fill_pattern(ram_lo, ram_len, 0, 20);
	memset(ram_hi, SENTINEL, ram_len);
	ASSERT_EQ(0, edu_copy(&e, IOVA_IN + 3 * PAGE_SZ, IOVA_MORE, 2000));
	ASSERT_TRUE(is_pattern(ram_hi, 2000, 3 * PAGE_SZ, 20));

	/* v2: an unmap that would cut a mapping fails and changes nothing. */
	ASSERT_EQ(-EINVAL, dma_unmap(c, IOVA_IN + PAGE_SZ, PAGE_SZ, NULL));
	ASSERT_EQ(-EINVAL, dma_unmap(c, IOVA_IN, PAGE_SZ, NULL));
	ASSERT_EQ(-EINVAL, dma_unmap(c, IOVA_IN + PAGE_SZ, 2 * ram_len, NULL));

	/* Teardown of an older QEMU: everything, in two halves. */
	ASSERT_EQ(0, dma_unmap(c, 0, 1ULL << 63, &unmapped));
	ASSERT_EQ(2 * ram_len + EDU_BAR_SIZE, unmapped);
	ASSERT_EQ(0, dma_unmap(c, 1ULL << 63, 1ULL << 63, &unmapped));
	ASSERT_EQ(0, unmapped);
	ASSERT_EQ(self->base_kb, locked_kb());
	memset(ram_hi, SENTINEL, ram_len);
	ASSERT_EQ(0, edu_push(&e, 0, IOVA_MORE, 2000));
	ASSERT_TRUE(all_bytes(ram_hi, ram_len, SENTINEL));

	/* A newer QEMU asks for UNMAP_ALL and uses it. */
	ASSERT_EQ(1, check_extension(c, VFIO_UNMAP_ALL));
	ASSERT_EQ(0, dma_map(c, ram_lo, IOVA_IN, ram_len, RW));
	ASSERT_EQ(0, dma_map(c, e.bar, IOVA_BAR, EDU_BAR_SIZE, RW));
	ASSERT_EQ(0, dma_unmap_flags(c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL,
				     &unmapped));
	ASSERT_EQ(ram_len + EDU_BAR_SIZE, unmapped);
	ASSERT_EQ(self->base_kb, locked_kb());

	/* The group leaves: refused while the device is open. */
	ASSERT_EQ(0, dma_map(c, ram_lo, IOVA_IN, ram_len, RW));
	ASSERT_EQ(-EBUSY, group_unset_container(e.group));
	edu_close_device(&e);
	refs = expected_module_refcnt();
	ASSERT_EQ(0, group_unset_container(e.group));
	/* The last group gone, the backend let go of the container. */
	if (getenv("IOMMUFD_EDU_EXPECT_MODULE"))
		ASSERT_EQ(refs - 1, expected_module_refcnt());
	ASSERT_EQ(self->base_kb, locked_kb());
	ASSERT_EQ(-EINVAL, group_unset_container(e.group));
	ASSERT_EQ(-EINVAL, dma_map(c, ram_lo, IOVA_IN, ram_len, RW));
	edu_close(&e);
	close(c);
	munmap(ram_lo, ram_len);
	munmap(ram_hi, ram_len);
}

static int dirty_pages(int c, __u32 flags)
{
	struct vfio_iommu_type1_dirty_bitmap d = {
		.argsz = sizeof(d),
		.flags = flags,
	};

	return ioctl(c, VFIO_IOMMU_DIRTY_PAGES, &d) ? -errno : 0;
}

/* GET_BITMAP of [iova, iova + size) at PAGE_SZ per bit into @bm. */
static int dirty_get(int c, __u64 iova, __u64 size, __u64 *bm)
{
	struct {
		struct vfio_iommu_type1_dirty_bitmap hdr;
		struct vfio_iommu_type1_dirty_bitmap_get range;
	} a = {
		.hdr = {
			.argsz = sizeof(a),
			.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
		},
		.range = {
			.iova = iova,
			.size = size,
			.bitmap = {
				.pgsize = PAGE_SZ,
				.size = (size / PAGE_SZ + 63) / 64 * 8,
				.data = bm,
			},
		},
	};

	return ioctl(c, VFIO_IOMMU_DIRTY_PAGES, &a) ? -errno : 0;
}

/*
 * QEMU's live migration of a VM with the device (hw/vfio/container.c's
 * dirty tracking): START, the device writes guest RAM by DMA, the bitmap
 * of each RAM region is read again and again, a region is unmapped with
 * its bitmap, STOP. Neither emulated IOMMU tracks dirty pages, so, as
 * type1 does, every page mapped for the device is reported dirty at
 * every read, the page the device wrote among them.
 */
TEST_F_TIMEOUT(bare, qemu_migration_dirty_pages, 60)
{
	const size_t ram_len = 16 * PAGE_SZ;
	struct {
		struct vfio_iommu_type1_dma_unmap unmap;
		struct vfio_bitmap bitmap;
	} u;
	__u8 *ram_lo, *ram_hi;
	__u64 bm[1];
	struct edu e;
	int c;

	if (!edu_type_is_type1())
		SKIP(return, "the program asks for type1 by name");
	program_setup(_metadata, &e, &self->devs[0], &c, VFIO_TYPE1v2_IOMMU);
	ram_lo = map_small_pages(ram_len);
	ram_hi = map_small_pages(ram_len);
	ASSERT_NE(NULL, ram_lo);
	ASSERT_NE(NULL, ram_hi);
	ASSERT_EQ(0, dma_map(c, ram_lo, IOVA_IN, ram_len, RW));
	ASSERT_EQ(0, dma_map(c, ram_hi, IOVA_MORE, ram_len, RW));
	/* Not tracking yet. */
	ASSERT_EQ(-EINVAL, dirty_get(c, IOVA_MORE, ram_len, bm));
	ASSERT_EQ(0, dirty_pages(c, VFIO_IOMMU_DIRTY_PAGES_FLAG_START));

	fill_pattern(ram_lo, ram_len, 0, 21);
	memset(ram_hi, SENTINEL, ram_len);
	ASSERT_EQ(0, edu_copy(&e, IOVA_IN, IOVA_MORE + 5 * PAGE_SZ, 2000));
	ASSERT_TRUE(is_pattern(ram_hi + 5 * PAGE_SZ, 2000, 0, 21));
	bm[0] = 0;
	ASSERT_EQ(0, dirty_get(c, IOVA_MORE, ram_len, bm));
	ASSERT_TRUE(bm[0] & (1ULL << 5));
	ASSERT_EQ(0xffff, bm[0]);
	/* Pinned pages stay dirty at the next read. */
	bm[0] = 0;
	ASSERT_EQ(0, dirty_get(c, IOVA_MORE, ram_len, bm));
	ASSERT_EQ(0xffff, bm[0]);
	/* A range cutting a mapping is refused. */
	ASSERT_EQ(-EINVAL, dirty_get(c, IOVA_MORE, ram_len / 2, bm));

	/* The region goes, its bitmap with it. */
	u.unmap = (struct vfio_iommu_type1_dma_unmap){
		.argsz = sizeof(u),
		.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
		.iova = IOVA_MORE,
		.size = ram_len,
	};
	u.bitmap = (struct vfio_bitmap){
		.pgsize = PAGE_SZ,
		.size = sizeof(bm),
		.data = bm,
	};
	bm[0] = 0;
	ASSERT_EQ(0, ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : 0);
	ASSERT_EQ(ram_len, u.unmap.size);
	ASSERT_EQ(0xffff, bm[0]);
	bm[0] = 0;
	ASSERT_EQ(0, dirty_get(c, IOVA_MORE, ram_len, bm));
	ASSERT_EQ(0, bm[0]);

	ASSERT_EQ(0, dirty_pages(c, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
	ASSERT_EQ(-EINVAL, dirty_get(c, IOVA_IN, ram_len, bm));
	ASSERT_EQ(0, dma_unmap(c, IOVA_IN, ram_len, NULL));
	edu_close_device(&e);
	ASSERT_EQ(0, group_unset_container(e.group));
	edu_close(&e);
	close(c);
	munmap(ram_lo, ram_len);
	munmap(ram_hi, ram_len);
}

/*
 * DPDK's EAL (lib/eal/linux/eal_vfio.c): TYPE1, the v1 interface. A
 * segment mapped twice gets EEXIST, which DPDK takes as "already
 * mapped"; an unmap must report exactly the size asked for, or DPDK
 * fails it. v1 keeps its old rules: an unmap starting inside a mapping
 * removes nothing and reports 0, one covering a mapping's first IOVA
 * removes the whole mapping.
 */
TEST_F_TIMEOUT(bare, dpdk_type1_v1_sequence, 90)
{
	const size_t seg = 4 * PAGE_SZ;
	__u64 unmapped;
	struct edu e;
	__u8 *mem;
	int c;

	if (!edu_type_is_type1())
		SKIP(return, "the program asks for type1 by name");
	program_setup(_metadata, &e, &self->devs[0], &c, VFIO_TYPE1_IOMMU);
	mem = map_small_pages(4 * seg);
	ASSERT_NE(NULL, mem);

	/* A segment, and the same segment again: EEXIST, mapping intact. */
	ASSERT_EQ(0, dma_map(c, mem, IOVA_IN, seg, RW));
	ASSERT_EQ(-EEXIST, dma_map(c, mem, IOVA_IN, seg, RW));
	ASSERT_EQ(self->base_kb + (long)(seg / 1024), locked_kb());
	ASSERT_EQ(0, dma_map(c, mem + seg, IOVA_OUT, seg, RW));
	fill_pattern(mem, seg, 0, 30);
	memset(mem + seg, SENTINEL, seg);
	ASSERT_EQ(0, edu_copy(&e, IOVA_IN + PAGE_SZ, IOVA_OUT, 1500));
	ASSERT_TRUE(is_pattern(mem + seg, 1500, PAGE_SZ, 30));

	/* Exact unmap: the size DPDK checks. */
	ASSERT_EQ(0, dma_unmap(c, IOVA_IN, seg, &unmapped));
	ASSERT_EQ(seg, unmapped);

	/* v1: starting inside a mapping unmaps nothing, successfully... */
	ASSERT_EQ(0, dma_map(c, mem, IOVA_IN, seg, RW));
	ASSERT_EQ(0, dma_unmap(c, IOVA_IN + PAGE_SZ, PAGE_SZ, &unmapped));
	ASSERT_EQ(0, unmapped);
	memset(mem + seg, SENTINEL, seg);
	ASSERT_EQ(0, edu_copy(&e, IOVA_IN + 2 * PAGE_SZ, IOVA_OUT, 1500));
	ASSERT_TRUE(is_pattern(mem + seg, 1500, 2 * PAGE_SZ, 30));
	/* ...also when it would cover a later mapping whole. */
	ASSERT_EQ(0, dma_map(c, mem + 2 * seg, IOVA_IN + seg, seg, RW));
	ASSERT_EQ(0, dma_unmap(c, IOVA_IN + PAGE_SZ, 2 * seg, &unmapped));
	ASSERT_EQ(0, unmapped);
	ASSERT_EQ(self->base_kb + (long)(3 * seg / 1024), locked_kb());
	/* Covering the first IOVA takes the whole mapping, and only it. */
	ASSERT_EQ(0, dma_unmap(c, IOVA_IN, PAGE_SZ, &unmapped));
	ASSERT_EQ(seg, unmapped);
	ASSERT_EQ(self->base_kb + (long)(2 * seg / 1024), locked_kb());
	fill_pattern(mem + 2 * seg, seg, 0, 31);
	memset(mem + seg, SENTINEL, seg);
	ASSERT_EQ(0, edu_copy(&e, IOVA_IN + 2 * PAGE_SZ, IOVA_OUT, 1500));
	ASSERT_TRUE(all_bytes(mem + seg, 1500, 0) ||
		    is_pattern(mem + seg, 1500, 2 * PAGE_SZ, 30));
	ASSERT_EQ(0, edu_copy(&e, IOVA_IN + seg, IOVA_OUT, 1500));
	ASSERT_TRUE(is_pattern(mem + seg, 1500, 0, 31));
	/* A range over several whole mappings unmaps them all. */
	ASSERT_EQ(0, dma_unmap(c, IOVA_IN, IOVA_OUT + seg - IOVA_IN,
			       &unmapped));
	ASSERT_EQ(2 * seg, unmapped);

	edu_close(&e);
	close(c);
	munmap(mem, 4 * seg);
}

/*
 * crosvm (devices/src/vfio.rs): TYPE1v2; the page size mask read with the
 * old three-field struct (16 bytes: the kernel must write no further),
 * the IOVA ranges with the sized call and the IOVA range capability
 * (version 1, required); guest pages mapped one by one, read-only where
 * the guest gave no write permission; every unmap must report exactly
 * the size asked for.
 */
TEST_F_TIMEOUT(bare, crosvm_sequence, 60)
{
	struct {
		__u32 argsz;
		__u32 flags;
		__u64 iova_pgsizes;
		__u8 after[16];
	} small = { .argsz = 16 };
	struct vfio_iommu_type1_info_cap_iova_range *ranges;
	struct vfio_iommu_type1_info *info;
	__u64 unmapped;
	struct edu e;
	__u8 *mem;
	__u32 len;
	int c, i;

	if (!edu_type_is_type1())
		SKIP(return, "the program asks for type1 by name");
	program_setup(_metadata, &e, &self->devs[0], &c, VFIO_TYPE1v2_IOMMU);

	memset(small.after, SENTINEL, sizeof(small.after));
	ASSERT_EQ(0, ioctl(c, VFIO_IOMMU_GET_INFO, &small));
	ASSERT_TRUE(small.flags & VFIO_IOMMU_INFO_PGSIZES);
	ASSERT_EQ(PAGE_SZ, small.iova_pgsizes & -small.iova_pgsizes);
	ASSERT_TRUE(all_bytes(small.after, sizeof(small.after), SENTINEL));
	info = iommu_info(c, &len);
	ASSERT_NE(NULL, info);
	ASSERT_TRUE(info->flags & VFIO_IOMMU_INFO_CAPS);
	ranges = cap_of(_metadata, info, len,
			VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	ASSERT_NE(NULL, ranges);
	ASSERT_EQ(1, ranges->header.version);
	free(info);

	mem = map_small_pages(8 * PAGE_SZ);
	ASSERT_NE(NULL, mem);
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, dma_map(c, mem + i * PAGE_SZ,
				     IOVA_IN + i * PAGE_SZ, PAGE_SZ,
				     i == 7 ? VFIO_DMA_MAP_FLAG_READ : RW));
	fill_pattern(mem, 4 * PAGE_SZ, 0, 40);
	memset(mem + 4 * PAGE_SZ, SENTINEL, 4 * PAGE_SZ);
	ASSERT_EQ(0, edu_copy(&e, IOVA_IN + PAGE_SZ - 1000,
			      IOVA_IN + 5 * PAGE_SZ - 1000, 2000));
	ASSERT_TRUE(is_pattern(mem + 5 * PAGE_SZ - 1000, 2000,
			       PAGE_SZ - 1000, 40));
	/* The page the guest made read-only stays as it is. */
	ASSERT_EQ(0, edu_push(&e, 0, IOVA_IN + 7 * PAGE_SZ, 2000));
	ASSERT_TRUE(all_bytes(mem + 7 * PAGE_SZ, PAGE_SZ, SENTINEL));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, dma_unmap(c, IOVA_IN + i * PAGE_SZ, PAGE_SZ,
				       &unmapped));
		ASSERT_EQ(PAGE_SZ, unmapped);
	}
	edu_close(&e);
	close(c);
	munmap(mem, 8 * PAGE_SZ);
}

/* Region info the way vfio-ioctls reads it: again, larger, for caps. */
static int region_info_with_caps(int device, __u32 index)
{
	struct vfio_region_info ri;
	struct vfio_region_info *big;
	int rc = region_info(device, index, &ri);

	if (rc || ri.argsz <= sizeof(ri))
		return rc;
	if (!(ri.flags & VFIO_REGION_INFO_FLAG_CAPS))
		return -EPROTO;
	big = calloc(1, ri.argsz);
	if (!big)
		return -ENOMEM;
	big->argsz = ri.argsz;
	big->index = index;
	rc = ioctl(device, VFIO_DEVICE_GET_REGION_INFO, big) ? -errno : 0;
	if (!rc && (!big->cap_offset || big->cap_offset >= ri.argsz))
		rc = -EPROTO;
	free(big);
	return rc;
}

/*
 * cloud-hypervisor through rust-vmm's vfio-ioctls (vfio_device.rs):
 * TYPE1v2 set right after the first group; device info and every
 * region's info (re-read with room for capabilities); guest RAM regions
 * mapped READ|WRITE and the device's mmapped BAR mapped too; unmaps
 * must report exactly the size asked for; the group leaves the container
 * once its device is dropped.
 */
TEST_F_TIMEOUT(bare, cloud_hypervisor_sequence, 60)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	const size_t region = 8 * PAGE_SZ;
	__u64 unmapped;
	struct edu e;
	__u8 *ram;
	__u32 i;
	int c;

	if (!edu_type_is_type1())
		SKIP(return, "the program asks for type1 by name");
	program_setup(_metadata, &e, &self->devs[0], &c, VFIO_TYPE1v2_IOMMU);
	ASSERT_EQ(0, ioctl(e.device, VFIO_DEVICE_GET_INFO, &di));
	/* Non-VGA devices have no VGA region: EINVAL, as vfio-ioctls expects. */
	for (i = 0; i < di.num_regions; i++) {
		int rc = region_info_with_caps(e.device, i);

		if (i == VFIO_PCI_VGA_REGION_INDEX && rc == -EINVAL)
			continue;
		ASSERT_EQ(0, rc) TH_LOG("region %u of %u", i, di.num_regions);
	}

	ram = map_small_pages(2 * region);
	ASSERT_NE(NULL, ram);
	ASSERT_EQ(0, dma_map(c, ram, IOVA_IN, region, RW));
	ASSERT_EQ(0, dma_map(c, ram + region, IOVA_OUT, region, RW));
	ASSERT_EQ(0, dma_map(c, e.bar, IOVA_BAR, EDU_BAR_SIZE, RW));
	fill_pattern(ram, region, 0, 50);
	memset(ram + region, SENTINEL, region);
	ASSERT_EQ(0, edu_copy(&e, IOVA_IN + region - 2000, IOVA_OUT + 10,
			      2000));
	ASSERT_TRUE(is_pattern(ram + region + 10, 2000, region - 2000, 50));

	ASSERT_EQ(0, dma_unmap(c, IOVA_BAR, EDU_BAR_SIZE, &unmapped));
	ASSERT_EQ(EDU_BAR_SIZE, unmapped);
	ASSERT_EQ(0, dma_unmap(c, IOVA_IN, region, &unmapped));
	ASSERT_EQ(region, unmapped);
	ASSERT_EQ(0, dma_unmap(c, IOVA_OUT, region, &unmapped));
	ASSERT_EQ(region, unmapped);
	edu_close_device(&e);
	ASSERT_EQ(0, group_unset_container(e.group));
	edu_close(&e);
	close(c);
	munmap(ram, 2 * region);
}

/* --- Groups and containers ------------------------------------------ */

TEST_F(bare, a_container_needs_a_group_before_an_iommu)
{
	long delta;
	int c;

	c = container_open();
	ASSERT_LE(0, c);
	/* Unprivileged until a group joins: only queries work. */
	ASSERT_EQ(1, check_extension(c, edu_iommu_type()));
	ASSERT_EQ(-EINVAL, set_iommu(c, edu_iommu_type(), &delta));
	ASSERT_EQ(0, delta);
	ASSERT_EQ(-EINVAL, dma_map(c, &delta, IOVA_IN, PAGE_SZ, RW));
	ASSERT_EQ(-EINVAL, dma_unmap(c, IOVA_IN, PAGE_SZ, NULL));
	close(c);
}

TEST_F(bare, group_and_container_rules)
{
	int c1, c2, null_fd, rc;
	long delta, refs;
	__u32 flags = 0;
	struct edu e;
	__u8 *mem;

	edu_init(&e, &self->devs[0]);
	c1 = container_open();
	c2 = container_open();
	ASSERT_LE(0, c1);
	ASSERT_LE(0, c2);
	e.group = group_open(e.dev.group_id);
	ASSERT_LE(0, e.group);
	/* One opener per group. */
	ASSERT_EQ(-EBUSY, group_open(e.dev.group_id));
	ASSERT_EQ(0, group_status(e.group, &flags));
	ASSERT_EQ(VFIO_GROUP_FLAGS_VIABLE, flags);

	/* No device before a container with an IOMMU. */
	ASSERT_EQ(-1, ioctl(e.group, VFIO_GROUP_GET_DEVICE_FD, e.dev.addr));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-EINVAL, group_unset_container(e.group));
	ASSERT_EQ(-EBADF, group_set_container(e.group, -1));
	null_fd = open("/dev/null", O_RDWR);
	ASSERT_LE(0, null_fd);
	rc = group_set_container(e.group, null_fd);
	ASSERT_TRUE(rc == -EBADFD || rc == -EINVAL) TH_LOG("rc %d", rc);
	close(null_fd);

	ASSERT_EQ(0, group_set_container(e.group, c1));
	/* One container per group. */
	ASSERT_EQ(-EINVAL, group_set_container(e.group, c2));
	ASSERT_EQ(-EINVAL, group_set_container(e.group, c1));
	ASSERT_EQ(-1, ioctl(e.group, VFIO_GROUP_GET_DEVICE_FD, e.dev.addr));
	ASSERT_EQ(EINVAL, errno);
	/* A type nobody serves, then the real one, then no second one. */
	ASSERT_EQ(-ENODEV, set_iommu(c1, 0x7ffe, &delta));
	ASSERT_EQ(0, set_iommu(c1, edu_iommu_type(), &delta));
	ASSERT_EQ(1, delta);
	ASSERT_EQ(-EINVAL, set_iommu(c1, edu_iommu_type(), &delta));
	ASSERT_EQ(-EINVAL, set_iommu(c2, edu_iommu_type(), &delta));
	/* A nonexistent device name. */
	ASSERT_EQ(-1, ioctl(e.group, VFIO_GROUP_GET_DEVICE_FD, "0000:ff:1f.7"));
	ASSERT_EQ(0, edu_open_device(&e));
	ASSERT_EQ(-EBUSY, group_unset_container(e.group));
	mem = map_small_pages(PAGE_SZ);
	ASSERT_NE(NULL, mem);
	ASSERT_EQ(0, dma_map(c1, mem, IOVA_IN, PAGE_SZ, RW));
	edu_close_device(&e);
	refs = expected_module_refcnt();
	ASSERT_EQ(0, group_unset_container(e.group));
	if (getenv("IOMMUFD_EDU_EXPECT_MODULE"))
		ASSERT_EQ(refs - 1, expected_module_refcnt());
	ASSERT_EQ(self->base_kb, locked_kb());
	/* The empty container is back to unset: no maps, a new IOMMU later. */
	ASSERT_EQ(-EINVAL, dma_unmap(c1, IOVA_IN, PAGE_SZ, NULL));

	/* The group moves to the other container and works there. */
	ASSERT_EQ(0, group_set_container(e.group, c2));
	ASSERT_EQ(0, set_iommu(c2, edu_iommu_type(), &delta));
	ASSERT_EQ(1, delta);
	ASSERT_EQ(0, edu_open_device(&e));
	edu_close(&e);
	close(c1);
	close(c2);
	munmap(mem, PAGE_SZ);
}

/*
 * Every order of closing the device, the group and the container, with
 * a mapping live: the charge and the backend's module reference go, and
 * the group opens and works again. With our test build loaded, the
 * pages' pin counts are read too (MD_CHECK_REFS on /dev/iommu): not one
 * pin is left.
 */
TEST_F_TIMEOUT(bare, every_close_order_releases_everything, 120)
{
	static const char * const orders[] = {
		"dgc", "dcg", "gdc", "gcd", "cdg", "cgd",
	};
	int iommufd = open("/dev/iommu", O_RDWR);
	__u8 *mem;

	if (iommufd >= 0 && !iommufd_is_test_build(iommufd)) {
		close(iommufd);
		iommufd = -1;
	}
	mem = map_small_pages(8 * PAGE_SZ);
	ASSERT_NE(NULL, mem);
	for (size_t o = 0; o < ARRAY_SIZE(orders); o++) {
		long refs = expected_module_refcnt();
		struct edu e;
		int c;

		program_setup(_metadata, &e, &self->devs[0], &c,
			      edu_iommu_type());
		ASSERT_EQ(0, dma_map(c, mem, IOVA_IN, 8 * PAGE_SZ, RW));
		ASSERT_EQ(self->base_kb + 32, locked_kb());
		fill_pattern(mem, 4 * PAGE_SZ, 0, 60 + o);
		memset(mem + 4 * PAGE_SZ, SENTINEL, 4 * PAGE_SZ);
		ASSERT_EQ(0, edu_copy(&e, IOVA_IN, IOVA_IN + 4 * PAGE_SZ, 512));
		ASSERT_TRUE(is_pattern(mem + 4 * PAGE_SZ, 512, 0, 60 + o));
		for (const char *p = orders[o]; *p; p++) {
			if (*p == 'd')
				edu_close_device(&e);
			else if (*p == 'g')
				close(e.group);
			else
				close(c);
		}
		ASSERT_EQ(self->base_kb, locked_kb())
			TH_LOG("close order %s", orders[o]);
		if (iommufd >= 0)
			ASSERT_EQ(0, tcmd_check_refs(iommufd, mem,
						     8 * PAGE_SZ, 0))
				TH_LOG("close order %s", orders[o]);
		if (getenv("IOMMUFD_EDU_EXPECT_MODULE"))
			ASSERT_EQ(refs, expected_module_refcnt())
				TH_LOG("close order %s", orders[o]);
	}
	munmap(mem, 8 * PAGE_SZ);
	if (iommufd >= 0)
		close(iommufd);
}

/* The group keeps its container, and its mappings, after the fd goes. */
TEST_F(bare, a_container_outlives_its_fd_while_a_group_holds_it)
{
	struct edu e;
	__u8 *mem;
	int c;

	program_setup(_metadata, &e, &self->devs[0], &c, edu_iommu_type());
	mem = map_small_pages(2 * PAGE_SZ);
	ASSERT_NE(NULL, mem);
	ASSERT_EQ(0, dma_map(c, mem, IOVA_IN, 2 * PAGE_SZ, RW));
	close(c);
	fill_pattern(mem, PAGE_SZ, 0, 70);
	memset(mem + PAGE_SZ, SENTINEL, PAGE_SZ);
	ASSERT_EQ(0, edu_copy(&e, IOVA_IN, IOVA_IN + PAGE_SZ, 1024));
	ASSERT_TRUE(is_pattern(mem + PAGE_SZ, 1024, 0, 70));
	ASSERT_EQ(self->base_kb + 8, locked_kb());
	edu_close(&e);
	munmap(mem, 2 * PAGE_SZ);
}

/*
 * Two groups in one container share its mappings, also those made
 * before the second group joined; the second one leaves and the first
 * keeps working.
 */
TEST_F_TIMEOUT(bare, two_groups_share_one_container, 60)
{
	struct edu a, b;
	long delta;
	__u8 *mem;
	int c;

	if (self->ndevs < 2)
		SKIP(return, "needs two edu devices bound to vfio-pci");
	program_setup(_metadata, &a, &self->devs[0], &c, edu_iommu_type());
	mem = map_small_pages(4 * PAGE_SZ);
	ASSERT_NE(NULL, mem);
	ASSERT_EQ(0, dma_map(c, mem, IOVA_IN, 2 * PAGE_SZ, RW));

	edu_init(&b, &self->devs[1]);
	b.group = group_open(b.dev.group_id);
	ASSERT_LE(0, b.group);
	ASSERT_EQ(0, group_set_container(b.group, c));
	/* The container already has its IOMMU: no second one. */
	ASSERT_EQ(-EINVAL, set_iommu(c, edu_iommu_type(), &delta));
	ASSERT_EQ(0, edu_open_device(&b));
	ASSERT_EQ(0, dma_map(c, mem + 2 * PAGE_SZ, IOVA_OUT, 2 * PAGE_SZ, RW));

	/* B through the mapping made before it joined, A through the later. */
	fill_pattern(mem, 2 * PAGE_SZ, 0, 80);
	memset(mem + 2 * PAGE_SZ, SENTINEL, 2 * PAGE_SZ);
	ASSERT_EQ(0, edu_copy(&b, IOVA_IN + 100, IOVA_OUT, 2000));
	ASSERT_TRUE(is_pattern(mem + 2 * PAGE_SZ, 2000, 100, 80));
	fill_pattern(mem + 2 * PAGE_SZ, 2 * PAGE_SZ, 0, 81);
	memset(mem, SENTINEL, 2 * PAGE_SZ);
	ASSERT_EQ(0, edu_copy(&a, IOVA_OUT + 300, IOVA_IN + PAGE_SZ, 2000));
	ASSERT_TRUE(is_pattern(mem + PAGE_SZ, 2000, 300, 81));

	/* One unmap blocks both. */
	ASSERT_EQ(0, dma_unmap(c, IOVA_IN, 2 * PAGE_SZ, NULL));
	memset(mem, SENTINEL, 2 * PAGE_SZ);
	ASSERT_EQ(0, edu_push(&a, 0, IOVA_IN, 2000));
	ASSERT_EQ(0, edu_push(&b, 0, IOVA_IN + PAGE_SZ, 2000));
	ASSERT_TRUE(all_bytes(mem, 2 * PAGE_SZ, SENTINEL));

	/* B leaves; A keeps the container and its mapping. */
	edu_close_device(&b);
	ASSERT_EQ(0, group_unset_container(b.group));
	ASSERT_EQ(0, dma_map(c, mem, IOVA_IN, 2 * PAGE_SZ, RW));
	ASSERT_EQ(0, edu_copy(&a, IOVA_OUT, IOVA_IN, 2000));
	ASSERT_TRUE(is_pattern(mem, 2000, 0, 81));
	edu_close(&b);
	edu_close(&a);
	close(c);
	munmap(mem, 4 * PAGE_SZ);
}

/* The same IOVA in two containers is two different places. */
TEST_F_TIMEOUT(bare, two_containers_are_isolated, 60)
{
	struct edu a, b;
	__u8 *mem_a, *mem_b;
	int ca, cb;

	if (self->ndevs < 2)
		SKIP(return, "needs two edu devices bound to vfio-pci");
	program_setup(_metadata, &a, &self->devs[0], &ca, edu_iommu_type());
	program_setup(_metadata, &b, &self->devs[1], &cb, edu_iommu_type());
	mem_a = map_small_pages(2 * PAGE_SZ);
	mem_b = map_small_pages(2 * PAGE_SZ);
	ASSERT_NE(NULL, mem_a);
	ASSERT_NE(NULL, mem_b);
	ASSERT_EQ(0, dma_map(ca, mem_a, IOVA_IN, 2 * PAGE_SZ, RW));
	ASSERT_EQ(0, dma_map(cb, mem_b, IOVA_IN, 2 * PAGE_SZ, RW));
	fill_pattern(mem_a, PAGE_SZ, 0, 90);
	fill_pattern(mem_b, PAGE_SZ, 0, 91);
	memset(mem_a + PAGE_SZ, SENTINEL, PAGE_SZ);
	memset(mem_b + PAGE_SZ, SENTINEL, PAGE_SZ);
	ASSERT_EQ(0, edu_copy(&a, IOVA_IN, IOVA_IN + PAGE_SZ, 2000));
	ASSERT_EQ(0, edu_copy(&b, IOVA_IN, IOVA_IN + PAGE_SZ, 2000));
	ASSERT_TRUE(is_pattern(mem_a + PAGE_SZ, 2000, 0, 90));
	ASSERT_TRUE(is_pattern(mem_b + PAGE_SZ, 2000, 0, 91));

	/* An IOVA mapped only in A's container is nothing to B... */
	ASSERT_EQ(0, dma_map(ca, mem_a, IOVA_MORE, PAGE_SZ, RW));
	memset(mem_a, SENTINEL, PAGE_SZ);
	ASSERT_EQ(0, edu_push(&b, 0, IOVA_MORE, 2000));
	ASSERT_TRUE(all_bytes(mem_a, PAGE_SZ, SENTINEL));
	/* ...and everything to A. */
	ASSERT_EQ(0, edu_push(&a, 0, IOVA_MORE, 2000));
	ASSERT_TRUE(is_pattern(mem_a, 2000, 0, 90));
	edu_close(&a);
	edu_close(&b);
	close(ca);
	close(cb);
	munmap(mem_a, 2 * PAGE_SZ);
	munmap(mem_b, 2 * PAGE_SZ);
}

/*
 * allow_unsafe_interrupts of every VFIO backend loaded, each written to
 * @val; the old values go to @old (-1: that module is not loaded or its
 * parameter is not writable). Returns how many were written.
 */
static const char * const vfio_backend_modules[] = {
	"vfio_iommu_type1", "iommufd_oot_vfio",
};

/* A module parameter that is an int or a bool: 0, 1, or -1 if unreadable. */
static long read_param_flag(const char *path)
{
	char buf[8] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	if (buf[0] == 'Y' || buf[0] == 'y')
		return 1;
	if (buf[0] == 'N' || buf[0] == 'n')
		return 0;
	if (buf[0] < '0' || buf[0] > '9')
		return -1;
	return strtol(buf, NULL, 10) != 0;
}

static int set_unsafe_interrupts(long val, long *old)
{
	char path[128];
	int n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(vfio_backend_modules); i++) {
		snprintf(path, sizeof(path),
			 "/sys/module/%s/parameters/allow_unsafe_interrupts",
			 vfio_backend_modules[i]);
		old[i] = read_param_flag(path);
		if (old[i] < 0 || access(path, W_OK) ||
		    sysfile_write_long(path, val)) {
			old[i] = -1;
			continue;
		}
		n++;
	}
	return n;
}

static void restore_unsafe_interrupts(const long *old)
{
	char path[128];

	for (size_t i = 0; i < ARRAY_SIZE(vfio_backend_modules); i++) {
		if (old[i] < 0)
			continue;
		snprintf(path, sizeof(path),
			 "/sys/module/%s/parameters/allow_unsafe_interrupts",
			 vfio_backend_modules[i]);
		sysfile_write_long(path, old[i]);
	}
}

/*
 * A group whose MSIs the IOMMU does not isolate (virtio-iommu remaps no
 * interrupts; VT-d with interrupt remapping does) gets an IOMMU only with
 * allow_unsafe_interrupts: EPERM otherwise, and the container is left as
 * it was, so setting the IOMMU works once the parameter allows it. The
 * runner says which case the boot is in (IOMMUFD_EDU_MSI_ISOLATED).
 */
TEST_F(bare, groups_without_isolated_msi_need_allow_unsafe_interrupts)
{
	const char *isolated = getenv("IOMMUFD_EDU_MSI_ISOLATED");
	long old[ARRAY_SIZE(vfio_backend_modules)];
	long delta;
	int c, g, rc;

	if (!isolated)
		SKIP(return, "the runner did not say whether MSI is isolated");
	c = container_open();
	ASSERT_LE(0, c);
	g = group_open(self->devs[0].group_id);
	ASSERT_LE(0, g);
	ASSERT_EQ(0, group_set_container(g, c));
	if (!set_unsafe_interrupts(0, old))
		SKIP(return, "no backend's allow_unsafe_interrupts is writable");
	rc = set_iommu(c, edu_iommu_type(), &delta);
	restore_unsafe_interrupts(old);
	if (atoi(isolated)) {
		ASSERT_EQ(0, rc);
		ASSERT_EQ(1, delta);
	} else {
		ASSERT_EQ(-EPERM, rc);
		ASSERT_EQ(0, delta);
		ASSERT_EQ(0, set_iommu(c, edu_iommu_type(), &delta));
		ASSERT_EQ(1, delta);
	}
	close(g);
	close(c);
}

/*
 * Peer to peer: the BAR of device B, mapped through its VFIO mmap (a
 * VM_PFNMAP VMA) like QEMU and cloud-hypervisor map BARs, is reachable by
 * device A's DMA: A reads B's ID register and writes B's liveness
 * register, whose read-back (the complement) the CPU then sees.
 */
TEST_F_TIMEOUT(bare, dma_reaches_another_devices_bar, 60)
{
	const __u32 value = 0x5a0f3c96;
	struct edu a, b;
	__u64 unmapped;
	__u32 *mem;
	long kb;
	int c;

	if (self->ndevs < 2)
		SKIP(return, "needs two edu devices bound to vfio-pci");
	program_setup(_metadata, &a, &self->devs[0], &c, edu_iommu_type());
	edu_init(&b, &self->devs[1]);
	b.group = group_open(b.dev.group_id);
	ASSERT_LE(0, b.group);
	ASSERT_EQ(0, group_set_container(b.group, c));
	ASSERT_EQ(0, edu_open_device(&b));
	mem = map_small_pages(PAGE_SZ);
	ASSERT_NE(NULL, mem);
	ASSERT_EQ(0, dma_map(c, mem, IOVA_IN, PAGE_SZ, RW));
	kb = locked_kb();
	ASSERT_EQ(0, dma_map(c, b.bar, IOVA_BAR, EDU_BAR_SIZE, RW));
	ASSERT_EQ(kb, locked_kb());

	mem[0] = 0;
	ASSERT_EQ(0, edu_copy(&a, IOVA_BAR + EDU_REG_ID, IOVA_IN, 4));
	ASSERT_EQ(EDU_ID_VALUE, mem[0]);
	mem[1] = value;
	ASSERT_EQ(0, edu_copy(&a, IOVA_IN + 4, IOVA_BAR + EDU_REG_LIVENESS, 4));
	ASSERT_EQ(~value, edu_read32(&b, EDU_REG_LIVENESS));

	/* Unmapped, B's register is out of A's reach. */
	ASSERT_EQ(0, dma_unmap(c, IOVA_BAR, EDU_BAR_SIZE, &unmapped));
	ASSERT_EQ(EDU_BAR_SIZE, unmapped);
	mem[1] = ~value;
	ASSERT_EQ(0, edu_copy(&a, IOVA_IN + 4, IOVA_BAR + EDU_REG_LIVENESS, 4));
	ASSERT_EQ(~value, edu_read32(&b, EDU_REG_LIVENESS));
	edu_close(&a);
	edu_close(&b);
	close(c);
	munmap(mem, PAGE_SZ);
}

/* --- IOMMU_VFIO_LINK: the container's IOAS and devices on /dev/iommu --- */

/* Whether our backend serves this run's containers (else: SKIP). */
static bool oot_serves_containers(void)
{
	const char *mod = getenv("IOMMUFD_EDU_EXPECT_MODULE");

	return mod && strstr(mod, "iommufd_oot");
}

static int vfio_link(int fd, int container, __u32 *ioas_id, __u32 *ids,
		     __u32 *num)
{
	struct iommu_vfio_link cmd = {
		.size = sizeof(cmd),
		.container_fd = container,
		.num_devices = *num,
		.devices = (__u64)(uintptr_t)ids,
	};
	int rc = ioctl(fd, IOMMU_VFIO_LINK, &cmd) ? -errno : 0;

	if (!rc || rc == -EMSGSIZE)
		*num = cmd.num_devices;
	if (!rc && ioas_id)
		*ioas_id = cmd.out_ioas_id;
	return rc;
}

static int vfio_link_raw(int fd, struct iommu_vfio_link *cmd)
{
	return ioctl(fd, IOMMU_VFIO_LINK, cmd) ? -errno : 0;
}

static int device_attach(int fd, __u32 dev_id, __u32 pt_id, __u32 *hwpt_id)
{
	struct iommu_device_attach cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.pt_id = pt_id,
	};
	int rc = ioctl(fd, IOMMU_DEVICE_ATTACH, &cmd) ? -errno : 0;

	if (!rc && hwpt_id)
		*hwpt_id = cmd.out_hwpt_id;
	return rc;
}

/* IOMMU_VFIO_IOAS GET: the fd's compat IOAS, -ENODEV for none. */
static int vfio_ioas_get(int fd, __u32 *id)
{
	struct iommu_vfio_ioas cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_VFIO_IOAS_GET,
	};
	int rc = ioctl(fd, IOMMU_VFIO_IOAS, &cmd) ? -errno : 0;

	if (!rc)
		*id = cmd.ioas_id;
	return rc;
}

/* The running kernel is at least @major.@minor. */
static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

/* The IOMMU of the edu at @addr is VT-d (its sysfs iommu is a dmarN). */
static bool edu_behind_vtd(const char *addr)
{
	char path[128], name[64];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", addr);
	sysfs_link_name(path, "iommu", name, sizeof(name));
	return !strncmp(name, "dmar", 4);
}

FIXTURE(link)
{
	struct edu_dev devs[MAX_EDUS];
	int ndevs;
	struct edu e;
	int c;
	int fd;
	__u32 ioas_id;
	__u32 dev_id;
	__u8 *buf;
	long base_kb;
};

FIXTURE_SETUP(link)
{
	long delta;

	self->c = -1;
	self->fd = -1;
	self->ndevs = edu_find(self->devs, MAX_EDUS);
	if (!self->ndevs)
		SKIP(return, "no edu device bound to vfio-pci");
	if (!oot_serves_containers()) {
		self->ndevs = 0;
		SKIP(return, "the containers are not served by our backend");
	}
	self->base_kb = locked_kb();
	edu_init(&self->e, &self->devs[0]);
	self->c = container_open();
	ASSERT_LE(0, self->c);
	self->e.group = group_open(self->e.dev.group_id);
	ASSERT_LE(0, self->e.group);
	ASSERT_EQ(0, group_set_container(self->e.group, self->c));
	ASSERT_EQ(0, set_iommu(self->c, edu_iommu_type(), &delta));
	ASSERT_EQ(1, delta);
	ASSERT_EQ(0, edu_open_device(&self->e));
	self->fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	self->buf = map_small_pages(BUF_LEN);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(link)
{
	if (!self->ndevs)
		return;
	if (self->fd >= 0)
		close(self->fd);
	edu_close(&self->e);
	if (self->c >= 0)
		close(self->c);
	if (self->buf)
		munmap(self->buf, BUF_LEN);
	EXPECT_EQ(self->base_kb, locked_kb());
}

/* Link @fd to container @c, of one device: its IOAS and device IDs. */
static void link_ok(struct __test_metadata *_metadata, int fd, int c,
		    __u32 *ioas_id, __u32 *dev_id)
{
	__u32 ids[4], num = 4;

	ASSERT_EQ(0, vfio_link(fd, c, ioas_id, ids, &num));
	ASSERT_EQ(1, num);
	*dev_id = ids[0];
	ASSERT_NE(0, *ioas_id);
	ASSERT_NE(0, *dev_id);
}

TEST_F(link, link_refuses_bad_input_and_changes_nothing)
{
	struct iommu_vfio_link cmd = {
		.size = sizeof(cmd),
		.container_fd = self->c,
	};
	struct iommu_vfio_ioas clear = {
		.size = sizeof(clear),
		.op = IOMMU_VFIO_IOAS_CLEAR,
	};
	__u32 ids[4], num, id, ioas_id;
	int devnull, fd2, c2;

	/* Flags, reserved, size. */
	cmd.flags = 1;
	ASSERT_EQ(-EOPNOTSUPP, vfio_link_raw(self->fd, &cmd));
	cmd.flags = 0;
	cmd.__reserved = 1;
	ASSERT_EQ(-EOPNOTSUPP, vfio_link_raw(self->fd, &cmd));
	cmd.__reserved = 0;
	cmd.size = offsetof(struct iommu_vfio_link, devices);
	ASSERT_EQ(-EINVAL, vfio_link_raw(self->fd, &cmd));
	cmd.size = sizeof(cmd);

	/* Not an fd, not a container, a container with no IOMMU. */
	num = 4;
	ASSERT_EQ(-EBADF, vfio_link(self->fd, -1, NULL, ids, &num));
	ASSERT_EQ(-EBADF, vfio_link(self->fd, 1000, NULL, ids, &num));
	devnull = open("/dev/null", O_RDWR);
	ASSERT_LE(0, devnull);
	ASSERT_EQ(-EINVAL, vfio_link(self->fd, devnull, NULL, ids, &num));
	close(devnull);
	ASSERT_EQ(-EINVAL, vfio_link(self->fd, self->fd, NULL, ids, &num));
	ASSERT_EQ(-EINVAL, vfio_link(self->fd, self->e.group, NULL, ids, &num));
	ASSERT_EQ(-EINVAL, vfio_link(self->fd, self->e.device, NULL, ids,
				     &num));
	c2 = container_open();
	ASSERT_LE(0, c2);
	ASSERT_EQ(-EINVAL, vfio_link(self->fd, c2, NULL, ids, &num));
	close(c2);

	/* Too small an array: the count comes back, nothing is linked. */
	num = 0;
	ASSERT_EQ(-EMSGSIZE, vfio_link(self->fd, self->c, NULL, NULL, &num));
	ASSERT_EQ(1, num);
	ASSERT_EQ(-ENODEV, vfio_ioas_get(self->fd, &id));
	/* An array that cannot be written: EFAULT, nothing linked. */
	num = 4;
	ASSERT_EQ(-EFAULT, vfio_link(self->fd, self->c, NULL,
				     (__u32 *)8, &num));
	ASSERT_EQ(-ENODEV, vfio_ioas_get(self->fd, &id));

	/* A fd that has objects already. */
	fd2 = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ioas_alloc(fd2, &id));
	num = 4;
	ASSERT_EQ(-EBUSY, vfio_link(fd2, self->c, NULL, ids, &num));
	close(fd2);

	/* Linked: the container's IOAS is the fd's compat IOAS now. */
	link_ok(_metadata, self->fd, self->c, &self->ioas_id, &self->dev_id);
	ASSERT_EQ(0, vfio_ioas_get(self->fd, &id));
	ASSERT_EQ(self->ioas_id, id);
	/* Again, same container: the same answer. */
	num = 4;
	ASSERT_EQ(0, vfio_link(self->fd, self->c, &ioas_id, ids, &num));
	ASSERT_EQ(1, num);
	ASSERT_EQ(self->ioas_id, ioas_id);
	ASSERT_EQ(self->dev_id, ids[0]);
	/* The container's IOAS stays its own. */
	ASSERT_EQ(EBUSY, ioctl(self->fd, IOMMU_VFIO_IOAS, &clear) ? errno : 0);
	/* The container's own ioctls stay on the container's fd. */
	ASSERT_EQ(ENOTTY, ioctl(self->fd, VFIO_SET_IOMMU,
				VFIO_TYPE1_IOMMU) ? errno : 0);
	ASSERT_EQ(ENOTTY, ioctl(self->fd, VFIO_CHECK_EXTENSION,
				VFIO_TYPE1v2_IOMMU) ? errno : 0);
	/* A device cannot be destroyed by its user. */
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->dev_id));

	/* Another container of ours on the same fd: EBUSY. */
	if (self->ndevs > 1) {
		struct edu b;
		long delta;

		edu_init(&b, &self->devs[1]);
		c2 = container_open();
		ASSERT_LE(0, c2);
		b.group = group_open(b.dev.group_id);
		ASSERT_LE(0, b.group);
		ASSERT_EQ(0, group_set_container(b.group, c2));
		ASSERT_EQ(0, set_iommu(c2, edu_iommu_type(), &delta));
		num = 4;
		ASSERT_EQ(-EBUSY, vfio_link(self->fd, c2, NULL, ids, &num));
		/* ... and a second fd may link to it. */
		fd2 = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd2);
		num = 4;
		ASSERT_EQ(0, vfio_link(fd2, c2, &id, ids, &num));
		ASSERT_EQ(1, num);
		close(fd2);
		edu_close(&b);
		close(c2);
	}
}

/*
 * A container served by vfio_iommu_type1 is not ours: EINVAL. Needs type1
 * loaded and our backend told to leave TYPE1v2 to it.
 */
TEST_F(link, a_type1_container_cannot_be_linked)
{
	const char *param = "/sys/module/iommufd_oot_vfio/parameters/type1";
	const char *loaded = getenv("IOMMUFD_VFIO_TYPE1_LOADED");
	__u32 ids[4], num = 4;
	struct edu b;
	long old, delta;
	int c2, rc;

	if (self->ndevs < 2 || !loaded || atoi(loaded) != 1)
		SKIP(return, "needs vfio_iommu_type1 and a second edu");
	old = read_param_flag(param);
	if (old < 0 || sysfile_write_long(param, 0))
		SKIP(return, "%s is not writable", param);
	edu_init(&b, &self->devs[1]);
	c2 = container_open();
	ASSERT_LE(0, c2);
	b.group = group_open(b.dev.group_id);
	ASSERT_LE(0, b.group);
	ASSERT_EQ(0, group_set_container(b.group, c2));
	rc = ioctl(c2, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) ? -errno : 0;
	sysfile_write_long(param, old);
	ASSERT_EQ(0, rc);
	ASSERT_EQ(0, check_extension(c2, IOMMUFD_OOT_VFIO_TYPE));
	ASSERT_EQ(-EINVAL, vfio_link(self->fd, c2, NULL, ids, &num));
	(void)delta;
	edu_close(&b);
	close(c2);
}

/* Maps through /dev/iommu (ioctl) reach the device; unmaps protect. */
TEST_F(link, dev_iommu_map_is_seen_by_the_device)
{
	__u64 unmapped;

	link_ok(_metadata, self->fd, self->c, &self->ioas_id, &self->dev_id);
	fill_pattern(IN(self), EDU_MAX_XFER, 0, 7);
	memset(OUT(self), SENTINEL, EDU_MAX_XFER);
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, IN(self),
				    PAGE_SZ, IOVA_IN));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, OUT(self),
				    PAGE_SZ, IOVA_OUT));
	/* Pinned and charged now: the container's domain maps it. */
	ASSERT_LT(self->base_kb, locked_kb());
	ASSERT_EQ(0, edu_copy(&self->e, IOVA_IN, IOVA_OUT, EDU_MAX_XFER));
	ASSERT_TRUE(is_pattern(OUT(self), EDU_MAX_XFER, 0, 7));

	/* The container sees the mapping: its unmap of it unmaps a page. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_OUT, PAGE_SZ,
				&unmapped));
	ASSERT_EQ(PAGE_SZ, unmapped);
	memset(OUT(self), SENTINEL, EDU_MAX_XFER);
	ASSERT_EQ(0, edu_copy(&self->e, IOVA_IN, IOVA_OUT, EDU_MAX_XFER));
	ASSERT_TRUE(all_bytes(OUT(self), EDU_MAX_XFER, SENTINEL));
	ASSERT_EQ(0, dma_unmap(self->c, IOVA_IN, PAGE_SZ, &unmapped));
	ASSERT_EQ(PAGE_SZ, unmapped);

	/* A container map is in the IOAS: /dev/iommu unmaps it. */
	ASSERT_EQ(0, dma_map(self->c, OUT(self), IOVA_OUT, PAGE_SZ, RW));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_OUT, PAGE_SZ,
				&unmapped));
	ASSERT_EQ(PAGE_SZ, unmapped);
	ASSERT_EQ(self->base_kb, locked_kb());
}

/* The same through io_uring. */
TEST_F(link, uring_map_is_seen_by_the_device)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.length = PAGE_SZ,
	};
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.iova = IOVA_OUT,
		.length = PAGE_SZ,
	};

	link_ok(_metadata, self->fd, self->c, &self->ioas_id, &self->dev_id);
	map.ioas_id = self->ioas_id;
	unmap.ioas_id = self->ioas_id;
	fill_pattern(IN(self), EDU_MAX_XFER, 0, 9);
	memset(OUT(self), SENTINEL, EDU_MAX_XFER);
	map.user_va = (__u64)(uintptr_t)IN(self);
	map.iova = IOVA_IN;
	ASSERT_EQ(0, iommufd_uring_submit_one(self->fd, IOMMU_IOAS_MAP, &map));
	map.user_va = (__u64)(uintptr_t)OUT(self);
	map.iova = IOVA_OUT;
	ASSERT_EQ(0, iommufd_uring_submit_one(self->fd, IOMMU_IOAS_MAP, &map));
	ASSERT_EQ(0, edu_copy(&self->e, IOVA_IN, IOVA_OUT, EDU_MAX_XFER));
	ASSERT_TRUE(is_pattern(OUT(self), EDU_MAX_XFER, 0, 9));
	ASSERT_EQ(0, iommufd_uring_submit_one(self->fd, IOMMU_IOAS_UNMAP,
					      &unmap));
	ASSERT_EQ(PAGE_SZ, unmap.length);
	memset(OUT(self), SENTINEL, EDU_MAX_XFER);
	ASSERT_EQ(0, edu_copy(&self->e, IOVA_IN, IOVA_OUT, EDU_MAX_XFER));
	ASSERT_TRUE(all_bytes(OUT(self), EDU_MAX_XFER, SENTINEL));
}

/*
 * HWPT_ALLOC makes a real domain of the device's IOMMU on another IOAS;
 * moving the device there takes effect: DMA goes through the mapping
 * that only the new HWPT has, not the old one; and back. 6.1 cannot
 * replace an attached group's domain: EOPNOTSUPP, nothing changes.
 */
TEST_F(link, hwpt_alloc_and_replace_take_effect)
{
	__u8 *in2 = IN(self) + 4 * PAGE_SZ;
	__u8 *more = OUT(self) + 4 * PAGE_SZ;
	__u32 ioas2, hwpt, out_hwpt, auto_hwpt;
	int rc;

	link_ok(_metadata, self->fd, self->c, &self->ioas_id, &self->dev_id);
	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas2));
	fill_pattern(IN(self), EDU_MAX_XFER, 0, 1);
	fill_pattern(in2, EDU_MAX_XFER, 0, 2);
	/* The same IOVAs in both IOASes, different memory behind IOVA_IN. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, IN(self),
				    PAGE_SZ, IOVA_IN));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, OUT(self),
				    PAGE_SZ, IOVA_OUT));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, ioas2, in2, PAGE_SZ, IOVA_IN));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, ioas2, OUT(self), PAGE_SZ,
				    IOVA_OUT));
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev_id, ioas2, &hwpt));

	/* Negative cases of the attach. */
	ASSERT_EQ(-ENOENT, device_attach(self->fd, self->dev_id, 9999, NULL));
	ASSERT_EQ(-ENOENT, device_attach(self->fd, 9999, hwpt, NULL));
	ASSERT_EQ(-ENOENT, device_attach(self->fd, hwpt, hwpt, NULL));
	ASSERT_EQ(-EINVAL, device_attach(self->fd, self->dev_id,
					 self->dev_id, NULL));
	{
		struct iommu_device_attach cmd = {
			.size = sizeof(cmd), .flags = 1,
			.dev_id = self->dev_id, .pt_id = hwpt,
		};

		ASSERT_EQ(EOPNOTSUPP, ioctl(self->fd, IOMMU_DEVICE_ATTACH,
					    &cmd) ? errno : 0);
		cmd.flags = 0;
		cmd.__reserved = 1;
		ASSERT_EQ(EOPNOTSUPP, ioctl(self->fd, IOMMU_DEVICE_ATTACH,
					    &cmd) ? errno : 0);
	}

	memset(OUT(self), SENTINEL, EDU_MAX_XFER);
	ASSERT_EQ(0, edu_copy(&self->e, IOVA_IN, IOVA_OUT, EDU_MAX_XFER));
	ASSERT_TRUE(is_pattern(OUT(self), EDU_MAX_XFER, 0, 1));

	rc = device_attach(self->fd, self->dev_id, hwpt, &out_hwpt);
	if (!kernel_at_least(6, 6)) {
		ASSERT_EQ(-EOPNOTSUPP, rc);
		/* Nothing changed: still the container's domain. */
		memset(OUT(self), SENTINEL, EDU_MAX_XFER);
		ASSERT_EQ(0, edu_copy(&self->e, IOVA_IN, IOVA_OUT,
				      EDU_MAX_XFER));
		ASSERT_TRUE(is_pattern(OUT(self), EDU_MAX_XFER, 0, 1));
		ASSERT_EQ(0, iommufd_destroy(self->fd, hwpt));
		return;
	}
	ASSERT_EQ(0, rc);
	ASSERT_EQ(hwpt, out_hwpt);
	/* The HWPT is in use: not destroyable. */
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, hwpt));
	memset(OUT(self), SENTINEL, EDU_MAX_XFER);
	ASSERT_EQ(0, edu_copy(&self->e, IOVA_IN, IOVA_OUT, EDU_MAX_XFER));
	ASSERT_TRUE(is_pattern(OUT(self), EDU_MAX_XFER, 0, 2));
	/* What only the container's IOAS maps no longer reaches it. */
	ASSERT_EQ(0, dma_map(self->c, more, IOVA_MORE, PAGE_SZ, RW));
	memset(more, SENTINEL, PAGE_SZ);
	ASSERT_EQ(0, edu_push(&self->e, 0, IOVA_MORE, 64));
	ASSERT_TRUE(all_bytes(more, PAGE_SZ, SENTINEL));

	/* Back to the container's IOAS: its automatic HWPT again. */
	ASSERT_EQ(0, device_attach(self->fd, self->dev_id, self->ioas_id,
				   &auto_hwpt));
	ASSERT_NE(hwpt, auto_hwpt);
	memset(OUT(self), SENTINEL, EDU_MAX_XFER);
	ASSERT_EQ(0, edu_copy(&self->e, IOVA_IN, IOVA_OUT, EDU_MAX_XFER));
	ASSERT_TRUE(is_pattern(OUT(self), EDU_MAX_XFER, 0, 1));
	ASSERT_EQ(0, edu_push(&self->e, 0, IOVA_MORE, 64));
	ASSERT_TRUE(is_pattern(more, 64, 0, 1));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hwpt));
	ASSERT_EQ(0, iommufd_destroy(self->fd, ioas2));
}

/*
 * A group that joins the container after the link is in the context too:
 * linking again reports both devices, ascending (EMSGSIZE with the count
 * for an array of one), and a map through /dev/iommu reaches its DMA.
 */
TEST_F(link, a_group_joining_later_is_reported_and_translated)
{
	__u32 ids[4], num, ioas_id;
	struct edu b;

	if (self->ndevs < 2)
		SKIP(return, "needs two edu devices bound to vfio-pci");
	link_ok(_metadata, self->fd, self->c, &self->ioas_id, &self->dev_id);
	edu_init(&b, &self->devs[1]);
	b.group = group_open(b.dev.group_id);
	ASSERT_LE(0, b.group);
	ASSERT_EQ(0, group_set_container(b.group, self->c));
	ASSERT_EQ(0, edu_open_device(&b));

	num = 1;
	ASSERT_EQ(-EMSGSIZE, vfio_link(self->fd, self->c, NULL, ids, &num));
	ASSERT_EQ(2, num);
	num = 4;
	ASSERT_EQ(0, vfio_link(self->fd, self->c, &ioas_id, ids, &num));
	ASSERT_EQ(2, num);
	ASSERT_EQ(self->ioas_id, ioas_id);
	ASSERT_EQ(self->dev_id, ids[0]);
	ASSERT_LT(ids[0], ids[1]);

	fill_pattern(IN(self), EDU_MAX_XFER, 0, 5);
	memset(OUT(self), SENTINEL, EDU_MAX_XFER);
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, IN(self),
				    PAGE_SZ, IOVA_IN));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, OUT(self),
				    PAGE_SZ, IOVA_OUT));
	ASSERT_EQ(0, edu_copy(&b, IOVA_IN, IOVA_OUT, EDU_MAX_XFER));
	ASSERT_TRUE(is_pattern(OUT(self), EDU_MAX_XFER, 0, 5));

	/* Leaving, its device is gone from the context. */
	edu_close(&b);
	num = 4;
	ASSERT_EQ(0, vfio_link(self->fd, self->c, NULL, ids, &num));
	ASSERT_EQ(1, num);
	ASSERT_EQ(self->dev_id, ids[0]);
}

/* GET_HW_INFO answers with the IOMMU driver's own data where it can. */
TEST_F(link, get_hw_info_reports_the_iommu_driver)
{
	__u64 data[16];
	__u32 len = sizeof(data), type = 0xff;

	link_ok(_metadata, self->fd, self->c, &self->ioas_id, &self->dev_id);
	memset(data, 0xa5, sizeof(data));
	ASSERT_EQ(0, get_hw_info(self->fd, self->dev_id, data, &len, &type));
	if (edu_behind_vtd(self->e.dev.addr) && kernel_at_least(6, 6)) {
		struct iommu_hw_info_vtd *vtd = (void *)data;

		ASSERT_EQ(IOMMU_HW_INFO_TYPE_INTEL_VTD, type);
		ASSERT_EQ(sizeof(*vtd), len);
		/* VT-d's capability register is never 0 (SAGAW etc.). */
		ASSERT_NE(0, vtd->cap_reg);
		ASSERT_TRUE(all_bytes((__u8 *)data + len,
				      sizeof(data) - len, 0));
	} else {
		ASSERT_EQ(IOMMU_HW_INFO_TYPE_NONE, type);
		ASSERT_EQ(0, len);
		ASSERT_TRUE(all_bytes(data, sizeof(data), 0));
	}
	ASSERT_EQ(-ENOENT, get_hw_info(self->fd, self->ioas_id, data, &len,
				       &type));
}

/*
 * Debian's kernels give IOMMU drivers nothing to record dirty pages into
 * (no CONFIG_IOMMUFD_DRIVER), and QEMU's VT-d and virtio-iommu have no
 * dirty tracking anyway: a real device says so and cannot get a tracking
 * HWPT, while a plain one it gets.
 */
TEST_F(link, real_devices_report_no_dirty_tracking)
{
	struct iommu_hw_info cmd = { .size = sizeof(cmd) };
	__u32 hwpt_id;

	link_ok(_metadata, self->fd, self->c, &self->ioas_id, &self->dev_id);
	cmd.dev_id = self->dev_id;
	cmd.out_capabilities = ~0ULL;
	ASSERT_EQ(0, iommufd_ioctl(self->fd, IOMMU_GET_HW_INFO, &cmd));
	ASSERT_EQ(0, cmd.out_capabilities & IOMMU_HW_CAP_DIRTY_TRACKING);
	ASSERT_EQ(-EOPNOTSUPP,
		  hwpt_alloc_flags(self->fd, self->dev_id, self->ioas_id,
				   IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt_id));
	ASSERT_EQ(0, hwpt_alloc_flags(self->fd, self->dev_id, self->ioas_id, 0,
				      &hwpt_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hwpt_id));
}

/*
 * Real devices get no fault queue (fault-queues.rst): as in upstream
 * 6.12 only a nested HWPT takes one, FAULT_ID_VALID on an IOAS is
 * EOPNOTSUPP, and a real device cannot have the nest parent a nested
 * HWPT needs (EOPNOTSUPP too). Nothing is made, the queue is not held,
 * and the device's DMA goes on through the domain it had.
 */
TEST_F(link, real_devices_refuse_fault_queues)
{
	__u32 fault_id, hwpt_id = 0, probe, again;
	int qfd;

	link_ok(_metadata, self->fd, self->c, &self->ioas_id, &self->dev_id);
	fill_pattern(IN(self), EDU_MAX_XFER, 0, 3);
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, IN(self),
				    PAGE_SZ, IOVA_IN));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, OUT(self),
				    PAGE_SZ, IOVA_OUT));
	ASSERT_EQ(0, fault_queue_alloc(self->fd, &fault_id, &qfd));
	ASSERT_EQ(0, ioas_alloc(self->fd, &probe));
	ASSERT_EQ(0, iommufd_destroy(self->fd, probe));
	ASSERT_EQ(-EOPNOTSUPP,
		  hwpt_alloc_fault(self->fd, self->dev_id, self->ioas_id,
				   IOMMU_HWPT_FAULT_ID_VALID, fault_id,
				   &hwpt_id));
	ASSERT_EQ(-EOPNOTSUPP,
		  hwpt_alloc_fault(self->fd, self->dev_id, self->ioas_id,
				   IOMMU_HWPT_FAULT_ID_VALID, 0xdead,
				   &hwpt_id));
	ASSERT_EQ(-EOPNOTSUPP,
		  hwpt_alloc_flags(self->fd, self->dev_id, self->ioas_id,
				   IOMMU_HWPT_ALLOC_NEST_PARENT, &hwpt_id));
	ASSERT_EQ(0, hwpt_id);
	ASSERT_EQ(0, ioas_alloc(self->fd, &again));
	ASSERT_EQ(probe, again);
	ASSERT_EQ(0, iommufd_destroy(self->fd, again));
	memset(OUT(self), SENTINEL, EDU_MAX_XFER);
	ASSERT_EQ(0, edu_copy(&self->e, IOVA_IN, IOVA_OUT, EDU_MAX_XFER));
	ASSERT_TRUE(is_pattern(OUT(self), EDU_MAX_XFER, 0, 3));
	close(qfd);
	ASSERT_EQ(0, iommufd_destroy(self->fd, fault_id));
}

/*
 * Closing the container first: its group leaves (the device's ID is gone,
 * its DMA blocked), the IOAS and what /dev/iommu mapped stay until the
 * fd goes; then everything is returned.
 */
TEST_F(link, closing_the_container_first)
{
	__u32 len = 0, type, id;
	__u64 unmapped;

	link_ok(_metadata, self->fd, self->c, &self->ioas_id, &self->dev_id);
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, IN(self),
				    PAGE_SZ, IOVA_IN));
	ASSERT_LT(self->base_kb, locked_kb());
	edu_close(&self->e);
	close(self->c);
	self->c = -1;
	ASSERT_EQ(-ENOENT, get_hw_info(self->fd, self->dev_id, NULL, &len,
				       &type));
	/* Still an IOAS of the fd; its mappings are unpinned (no domain). */
	ASSERT_EQ(self->base_kb, locked_kb());
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, OUT(self),
				    PAGE_SZ, IOVA_OUT));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0, UINT64_MAX,
				&unmapped));
	ASSERT_EQ(2 * PAGE_SZ, unmapped);
	ASSERT_EQ(0, ioas_alloc(self->fd, &id));
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(self->base_kb, locked_kb());
}

/*
 * Closing /dev/iommu first: the container goes on as before, with what
 * the fd mapped; its close then returns everything.
 */
TEST_F(link, closing_dev_iommu_first)
{
	__u32 hwpt;

	link_ok(_metadata, self->fd, self->c, &self->ioas_id, &self->dev_id);
	fill_pattern(IN(self), EDU_MAX_XFER, 0, 3);
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, IN(self),
				    PAGE_SZ, IOVA_IN));
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev_id, self->ioas_id, &hwpt));
	close(self->fd);
	self->fd = -1;
	ASSERT_LT(self->base_kb, locked_kb());
	memset(OUT(self), SENTINEL, EDU_MAX_XFER);
	ASSERT_EQ(0, dma_map(self->c, OUT(self), IOVA_OUT, PAGE_SZ, RW));
	ASSERT_EQ(0, edu_copy(&self->e, IOVA_IN, IOVA_OUT, EDU_MAX_XFER));
	ASSERT_TRUE(is_pattern(OUT(self), EDU_MAX_XFER, 0, 3));
	edu_close(&self->e);
	close(self->c);
	self->c = -1;
	ASSERT_EQ(self->base_kb, locked_kb());
}

/*
 * The link fixture is a suite of its own, iommufd_vfio_link (built from
 * iommufd_vfio_link.c with EDU_LINK_ONLY), so that a run can choose it
 * alone; this one runs the rest. Arguments given override the choice.
 */
#ifdef EDU_LINK_ONLY
#define EDU_FIXTURE_CHOICE "-f"
#else
#define EDU_FIXTURE_CHOICE "-F"
#endif

int main(int argc, char **argv)
{
	char *only[4];

	if (argc > 1)
		return test_harness_run(argc, argv);
	only[0] = argv[0];
	only[1] = EDU_FIXTURE_CHOICE;
	only[2] = "link";
	only[3] = NULL;
	return test_harness_run(3, only);
}
