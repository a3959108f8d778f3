// SPDX-License-Identifier: GPL-2.0
/*
 * The VFIO backend (iommufd_oot_test_vfio.ko) from a VFIO program's side:
 * a real group (QEMU's edu behind emulated VT-d or virtio-iommu, bound to
 * vfio-pci) in a /dev/vfio/vfio container, with the checks that the
 * container really is ours and that its IOMMU domain really translates
 * what MAP_DMA mapped. The DMA itself is proved by the edu suite
 * (iommufd_vfio_edu).
 *
 * Environment (tools/vm/init.sh sets it in the real-device boots, for
 * the "vfio-oot-test" and "vfio-both-test" variants):
 *   IOMMUFD_VFIO_GROUP          the group's /dev/vfio/N
 *   IOMMUFD_EDU_EXPECT_MODULE   the VFIO IOMMU driver loaded to serve
 *                               containers; this suite needs the test
 *                               build's iommufd_oot_test_vfio (its debugfs)
 *   IOMMUFD_VFIO_TYPE1_LOADED   1 when vfio_iommu_type1 was loaded before
 *                               our module
 * Without a group, or with another driver serving, every test SKIPs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "iommufd_utils.h"

#define VFIO_MOD "iommufd_oot_test_vfio"
#define XLATE "/sys/kernel/debug/" VFIO_MOD "/iova_to_phys"
#define PARAM_TYPE1 "/sys/module/" VFIO_MOD "/parameters/type1"
#define PARAM_UNSAFE "/sys/module/" VFIO_MOD "/parameters/allow_unsafe_interrupts"
#define VFIO_MOD_FILE "/lib/iommufd/test/" VFIO_MOD ".ko"
#define PG 4096UL
#define IOVA 0x1000000UL

static const char *group_path(void)
{
	return getenv("IOMMUFD_VFIO_GROUP");
}

/* Our test build's driver serves this run's containers. */
static bool ours_serves(void)
{
	const char *mod = getenv("IOMMUFD_EDU_EXPECT_MODULE");

	return mod && !strcmp(mod, VFIO_MOD);
}

static int group_number(void)
{
	const char *p = strrchr(group_path(), '/');

	return p ? atoi(p + 1) : -1;
}

static long read_long(const char *path)
{
	char buf[64] = {};
	long v = -1;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) > 0) {
		if (buf[0] == 'Y')
			v = 1;
		else if (buf[0] == 'N')
			v = 0;
		else
			v = strtol(buf, NULL, 0);
	}
	close(fd);
	return v;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int rc;

	if (fd < 0)
		return -errno;
	rc = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -errno;
	close(fd);
	return rc;
}

static long module_refcnt(void)
{
	return read_long("/sys/module/" VFIO_MOD "/refcnt");
}

/* What the group's domain translates @iova to (test builds' debugfs). */
static __u64 domain_iova_to_phys(unsigned long iova)
{
	char req[64];

	snprintf(req, sizeof(req), "%d %#lx", group_number(), iova);
	if (write_str(XLATE, req))
		return (__u64)-1;
	return read_long(XLATE);
}

/* The physical address of the page at @va, from /proc/self/pagemap. */
static __u64 va_to_phys(void *va)
{
	__u64 entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	off_t off = ((unsigned long)va / PG) * sizeof(entry);

	if (fd < 0)
		return 0;
	if (pread(fd, &entry, sizeof(entry), off) != sizeof(entry))
		entry = 0;
	close(fd);
	if (!(entry & (1ULL << 63)))
		return 0;
	return (entry & ((1ULL << 55) - 1)) * PG;
}

static int set_iommu(int container, unsigned long type)
{
	return ioctl(container, VFIO_SET_IOMMU, type) ? -errno : 0;
}

static int vfio_map(int container, void *va, unsigned long iova,
		    unsigned long size)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (unsigned long)va,
		.iova = iova,
		.size = size,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

static long vfio_unmap(int container, unsigned long iova, unsigned long size,
		       __u32 flags)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.flags = flags,
		.iova = iova,
		.size = size,
	};

	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return -errno;
	return unmap.size;
}

FIXTURE(vfio_backend) {
	int container;
	int group;
	long refcnt0;
};

FIXTURE_SETUP(vfio_backend)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };

	self->container = -1;
	self->group = -1;
	if (!group_path())
		SKIP(return, "no VFIO group (IOMMUFD_VFIO_GROUP unset)");
	if (!ours_serves())
		SKIP(return, "%s is not the driver loaded (IOMMUFD_EDU_EXPECT_MODULE)",
		     VFIO_MOD);
	self->refcnt0 = module_refcnt();
	ASSERT_LE(0, self->refcnt0);
	self->container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, self->container);
	ASSERT_EQ(VFIO_API_VERSION,
		  ioctl(self->container, VFIO_GET_API_VERSION));
	self->group = open(group_path(), O_RDWR);
	ASSERT_LE(0, self->group);
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_GET_STATUS, &status));
	ASSERT_TRUE(status.flags & VFIO_GROUP_FLAGS_VIABLE);
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
}

FIXTURE_TEARDOWN(vfio_backend)
{
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	/* Every container of ours gave its module reference back. */
	if (group_path() && ours_serves())
		EXPECT_EQ(self->refcnt0, module_refcnt());
}

/* Unmodified programs ask for TYPE1v2 and get us, not type1. */
TEST_F(vfio_backend, type1v2_selects_our_driver)
{
	ASSERT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   IOMMUFD_OOT_VFIO_TYPE));
	ASSERT_EQ(0, set_iommu(self->container, VFIO_TYPE1v2_IOMMU));
	/* Once a driver is set, only it answers: type1 knows no such type. */
	ASSERT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   IOMMUFD_OOT_VFIO_TYPE));
	ASSERT_EQ(self->refcnt0 + 1, module_refcnt());
	/* A second SET_IOMMU is refused by VFIO's core. */
	ASSERT_EQ(-1, ioctl(self->container, VFIO_SET_IOMMU,
			    VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(vfio_backend, type1_v1_selects_our_driver)
{
	ASSERT_EQ(0, set_iommu(self->container, VFIO_TYPE1_IOMMU));
	ASSERT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   IOMMUFD_OOT_VFIO_TYPE));
	ASSERT_EQ(self->refcnt0 + 1, module_refcnt());
}

/* MAP_DMA reaches the group's real IOMMU domain; UNMAP_DMA leaves it. */
TEST_F(vfio_backend, map_reaches_the_domain)
{
	size_t len = 4 * PG;
	__u8 *buf;
	unsigned long i;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	memset(buf, 0x5a, len);
	ASSERT_EQ(0, set_iommu(self->container, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, domain_iova_to_phys(IOVA));
	ASSERT_EQ(0, vfio_map(self->container, buf, IOVA, len));
	for (i = 0; i != len / PG; i++) {
		__u64 phys = va_to_phys(buf + i * PG);

		ASSERT_NE(0, phys);
		ASSERT_EQ(phys, domain_iova_to_phys(IOVA + i * PG));
		ASSERT_EQ(phys + 0x123,
			  domain_iova_to_phys(IOVA + i * PG + 0x123));
	}
	/* Nothing around the mapping. */
	ASSERT_EQ(0, domain_iova_to_phys(IOVA - PG));
	ASSERT_EQ(0, domain_iova_to_phys(IOVA + len));

	ASSERT_EQ((long)len, vfio_unmap(self->container, IOVA, len, 0));
	for (i = 0; i != len / PG; i++)
		ASSERT_EQ(0, domain_iova_to_phys(IOVA + i * PG));
	munmap(buf, len);
}

#define IOPTE_BYTES "/sys/kernel/debug/iommufd_oot_test/iopte_bytes"
#define SZ_2M 0x200000UL
#define THP_LEN (4 * SZ_2M)

/*
 * Bytes the core's maps gave IOPTEs of @min_size bytes or more, and of
 * less than that, since the counts were last cleared (iopte_stats.c).
 */
static int iopte_bytes(unsigned long min_size, long *large, long *small)
{
	unsigned long size, bytes;
	FILE *f = fopen(IOPTE_BYTES, "r");

	if (!f)
		return -errno;
	*large = *small = 0;
	while (fscanf(f, "%lu %lu", &size, &bytes) == 2)
		*(size >= min_size ? large : small) += bytes;
	fclose(f);
	return 0;
}

/* THP_LEN of anonymous memory, 2 MiB aligned, NULL unless THP backs it. */
static void *thp_buffer(void)
{
	char *raw = mmap(NULL, THP_LEN + SZ_2M, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *buf;
	unsigned long i;

	if (raw == MAP_FAILED)
		return NULL;
	buf = (char *)(((unsigned long)raw + SZ_2M - 1) & ~(SZ_2M - 1));
	madvise(buf, THP_LEN, MADV_HUGEPAGE);
	memset(buf, 0x5a, THP_LEN);
	for (i = 0; i < THP_LEN; i += SZ_2M) {
		__u64 phys = va_to_phys(buf + i);

		if (!phys || phys % SZ_2M ||
		    va_to_phys(buf + i + SZ_2M - PG) != phys + SZ_2M - PG)
			return NULL;
	}
	return buf;
}

/*
 * What a map of THP memory gives the real domain, as the IOMMU core
 * splits it into IOPTEs: with large IOPTEs allowed (TYPE1v2) every byte
 * in 2 MiB pages or larger (the emulated VT-d has 2M and 1G), with type1
 * v1's semantics (large IOPTEs off, so any page can be unmapped alone)
 * every byte in 4 KiB pages.
 */
static void thp_iopte_sizes(struct __test_metadata *_metadata, int container,
			    unsigned long type)
{
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };
	long large, small;
	char *buf;

	if (access(IOPTE_BYTES, W_OK))
		SKIP(return, "no %s (not the test core?)", IOPTE_BYTES);
	buf = thp_buffer();
	if (!buf)
		SKIP(return, "no transparent huge pages for the buffer");
	ASSERT_EQ(0, set_iommu(container, type));
	ASSERT_EQ(0, ioctl(container, VFIO_IOMMU_GET_INFO, &info));
	ASSERT_EQ(0, write_str(IOPTE_BYTES, "0"));
	ASSERT_EQ(0, vfio_map(container, buf, IOVA, THP_LEN));
	ASSERT_EQ(0, iopte_bytes(SZ_2M, &large, &small));
	if (type == VFIO_TYPE1_IOMMU) {
		ASSERT_EQ(0, large);
		ASSERT_EQ(THP_LEN, small);
	} else {
		ASSERT_TRUE(info.iova_pgsizes & SZ_2M)
			TH_LOG("the domain has no 2 MiB IOPTE: %#llx",
			       (unsigned long long)info.iova_pgsizes);
		ASSERT_EQ(THP_LEN, large);
		ASSERT_EQ(0, small);
	}
	ASSERT_EQ(va_to_phys(buf + SZ_2M + 3 * PG),
		  domain_iova_to_phys(IOVA + SZ_2M + 3 * PG));
	ASSERT_EQ((long)THP_LEN, vfio_unmap(container, IOVA, THP_LEN, 0));
	ASSERT_EQ(0, domain_iova_to_phys(IOVA + SZ_2M));
}

TEST_F(vfio_backend, thp_maps_with_large_ioptes)
{
	thp_iopte_sizes(_metadata, self->container, VFIO_TYPE1v2_IOMMU);
}

TEST_F(vfio_backend, type1_v1_maps_thp_with_small_ioptes)
{
	thp_iopte_sizes(_metadata, self->container, VFIO_TYPE1_IOMMU);
}

/* VFIO_DMA_UNMAP_FLAG_ALL takes everything out of the domain. */
TEST_F(vfio_backend, unmap_all_empties_the_domain)
{
	size_t len = 2 * PG;
	__u8 *buf;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	memset(buf, 1, len);
	ASSERT_EQ(0, set_iommu(self->container, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   VFIO_UNMAP_ALL));
	ASSERT_EQ(0, vfio_map(self->container, buf, IOVA, PG));
	ASSERT_EQ(0, vfio_map(self->container, buf + PG, 2 * IOVA, PG));
	ASSERT_EQ(va_to_phys(buf + PG), domain_iova_to_phys(2 * IOVA));
	ASSERT_EQ((long)len, vfio_unmap(self->container, 0, 0,
					VFIO_DMA_UNMAP_FLAG_ALL));
	ASSERT_EQ(0, domain_iova_to_phys(IOVA));
	ASSERT_EQ(0, domain_iova_to_phys(2 * IOVA));
	munmap(buf, len);
}

/* GET_INFO reports the real domain's page sizes, 4 KiB among them. */
TEST_F(vfio_backend, get_info_has_page_sizes)
{
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, set_iommu(self->container, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, ioctl(self->container, VFIO_IOMMU_GET_INFO, &info));
	ASSERT_TRUE(info.flags & VFIO_IOMMU_INFO_PGSIZES);
	ASSERT_TRUE(info.iova_pgsizes & PG);
}

/*
 * The start of the group's MSI window, from its reserved regions: VT-d's
 * 0xfee00000 ("msi"), or virtio-iommu's software window (8 MiB at
 * 128 MiB by default, also "msi"). 0 if it has none.
 */
static unsigned long group_msi_start(void)
{
	unsigned long long start, end;
	char path[96], type[32];
	unsigned long found = 0;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/kernel/iommu_groups/%d/reserved_regions",
		 group_number());
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fscanf(f, "%llx %llx %31s", &start, &end, type) == 3) {
		if (!strcmp(type, "msi")) {
			found = start;
			break;
		}
	}
	fclose(f);
	return found;
}

/* The group's MSI window is reserved: nothing may be mapped there. */
TEST_F(vfio_backend, msi_window_is_reserved)
{
	unsigned long msi = group_msi_start();
	__u8 *buf;

	ASSERT_NE(0, msi);
	buf = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, set_iommu(self->container, VFIO_TYPE1v2_IOMMU));
	ASSERT_GT(0, vfio_map(self->container, buf, msi, PG));
	ASSERT_EQ(0, domain_iova_to_phys(msi));
	munmap(buf, PG);
}

/* With TYPE1 answering off, only our own type number selects us. */
TEST_F(vfio_backend, own_type_when_type1_is_off)
{
	const char *loaded = getenv("IOMMUFD_VFIO_TYPE1_LOADED");
	bool type1_loaded = loaded && !strcmp(loaded, "1");

	ASSERT_EQ(0, write_str(PARAM_TYPE1, "0"));
	if (type1_loaded) {
		/* type1 answers, and takes, TYPE1v2. */
		EXPECT_EQ(0, set_iommu(self->container, VFIO_TYPE1v2_IOMMU));
		EXPECT_EQ(0, ioctl(self->container, VFIO_CHECK_EXTENSION,
				   IOMMUFD_OOT_VFIO_TYPE));
		EXPECT_EQ(self->refcnt0, module_refcnt());
	} else {
		EXPECT_EQ(-1, ioctl(self->container, VFIO_SET_IOMMU,
				    VFIO_TYPE1v2_IOMMU));
		EXPECT_EQ(0, set_iommu(self->container, IOMMUFD_OOT_VFIO_TYPE));
		EXPECT_EQ(self->refcnt0 + 1, module_refcnt());
	}
	ASSERT_EQ(0, write_str(PARAM_TYPE1, "1"));
}

/* Load the backend again, with the parameters it had (init.sh's). */
static int reload_backend(bool unsafe)
{
	int fd = open(VFIO_MOD_FILE, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -errno;
	rc = syscall(SYS_finit_module, fd,
		     unsafe ? "allow_unsafe_interrupts=1" : "", 0) ? -errno : 0;
	close(fd);
	return rc;
}

/*
 * While a container uses it, the module cannot be unloaded (the loader
 * says EWOULDBLOCK, which rmmod reports as "in use"); once the container
 * is gone it can, new containers go to type1 (if loaded) or find no
 * driver, and loaded again it serves them again.
 */
TEST_F(vfio_backend, unload_refused_while_in_use)
{
	const char *loaded = getenv("IOMMUFD_VFIO_TYPE1_LOADED");
	bool type1_loaded = loaded && !strcmp(loaded, "1");
	long unsafe = read_long(PARAM_UNSAFE);
	int rc;

	ASSERT_LE(0, unsafe);
	ASSERT_EQ(0, set_iommu(self->container, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(-1, syscall(SYS_delete_module, VFIO_MOD, O_NONBLOCK));
	ASSERT_EQ(EWOULDBLOCK, errno);
	ASSERT_EQ(self->refcnt0 + 1, module_refcnt());

	/* Closed: nothing holds it any more. */
	close(self->group);
	close(self->container);
	self->group = -1;
	self->container = -1;
	ASSERT_EQ(0, syscall(SYS_delete_module, VFIO_MOD, O_NONBLOCK));

	self->container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, self->container);
	self->group = open(group_path(), O_RDWR);
	ASSERT_LE(0, self->group);
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	rc = set_iommu(self->container, VFIO_TYPE1v2_IOMMU);
	if (type1_loaded) {
		EXPECT_EQ(0, rc);
		/* type1 serves it, and knows nothing of our type. */
		EXPECT_EQ(0, ioctl(self->container, VFIO_CHECK_EXTENSION,
				   IOMMUFD_OOT_VFIO_TYPE));
	} else {
		EXPECT_NE(0, rc);
	}
	close(self->group);
	close(self->container);
	self->group = -1;
	self->container = -1;

	ASSERT_EQ(0, reload_backend(unsafe == 1));
	self->refcnt0 = module_refcnt();
	self->container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, self->container);
	self->group = open(group_path(), O_RDWR);
	ASSERT_LE(0, self->group);
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	ASSERT_EQ(0, set_iommu(self->container, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   IOMMUFD_OOT_VFIO_TYPE));
	ASSERT_EQ(self->refcnt0 + 1, module_refcnt());
}

/* Closing in any order: the group first, then the container. */
TEST_F(vfio_backend, group_closed_first)
{
	__u8 *buf;

	buf = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	buf[0] = 1;
	ASSERT_EQ(0, set_iommu(self->container, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_map(self->container, buf, IOVA, PG));
	close(self->group);
	self->group = -1;
	/* The group left: its domain is gone, the module reference too. */
	ASSERT_EQ(0, domain_iova_to_phys(IOVA));
	ASSERT_EQ(self->refcnt0, module_refcnt());
	munmap(buf, PG);
}

/* --- Faults: a killed VMM, and fail-nth on the real path ------------- */

/* Pinned memory of this process: what the backend charges. */
static long pinned_kb(void)
{
	return proc_status_kb("VmLck") + proc_status_kb("VmPin");
}

/* The group of another edu than IOMMUFD_VFIO_GROUP's, or -1. */
static int other_edu_group(void)
{
	char path[512], link[256];
	struct dirent *de;
	int found = -1;
	DIR *dir;

	dir = opendir("/sys/bus/pci/devices");
	if (!dir)
		return -1;
	while ((de = readdir(dir)) && found < 0) {
		const char *slash;
		ssize_t n;
		int g;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor",
			 de->d_name);
		if (read_long(path) != 0x1234)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 de->d_name);
		if (read_long(path) != 0x11e8)
			continue;
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/iommu_group", de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		slash = strrchr(link, '/');
		g = atoi(slash ? slash + 1 : link);
		if (g != group_number())
			found = g;
	}
	closedir(dir);
	return found;
}

/*
 * A VMM killed in the middle of a large MAP_DMA: once it is gone,
 * nothing it pinned stays pinned, the container and its module reference
 * are gone, and the group works again. The memory is a memfd the test
 * keeps mapped too, so that its pages outlive the VMM and their pin
 * counts can be read (IOMMU_TEST_OP_MD_CHECK_REFS on /dev/iommu, the
 * test core's).
 */
TEST_F_TIMEOUT(vfio_backend, killed_vmm_mid_map_leaves_nothing_pinned, 180)
{
	const size_t len = 256UL << 20;
	long child_pin = 0;
	int pipefd[2], status, mfd, iommufd;
	char path[64], byte;
	bool caught = false;
	__u8 *mem;
	pid_t pid;

	/* The VMM opens the group itself: one opener at a time. */
	close(self->group);
	close(self->container);
	self->group = -1;
	self->container = -1;
	iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, iommufd);
	mfd = memfd_create("vmm-ram", 0);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, len));
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, pipe(pipefd));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int c = open("/dev/vfio/vfio", O_RDWR);
		int g = open(group_path(), O_RDWR);

		if (c < 0 || g < 0 ||
		    ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) ||
		    set_iommu(c, VFIO_TYPE1v2_IOMMU))
			_exit(1);
		if (write(pipefd[1], "m", 1) != 1)
			_exit(1);
		vfio_map(c, mem, IOVA, len);
		/* Mapped before the kill came: wait for it. */
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &byte, 1));
	/* Kill it once pinning has begun, if it is seen to. */
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	for (int i = 0; i != 200000 && child_pin < (long)(len >> 10); i++) {
		child_pin = file_field_kb(path, "VmPin");
		if (child_pin > 0) {
			caught = child_pin < (long)(len >> 10);
			break;
		}
	}
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	TH_LOG("killed with %ld kB of %zu pinned (%s)", child_pin, len >> 10,
	       caught ? "mid-map" : "before or after the pinning");

	/* Not one page is left pinned; the container is gone. */
	ASSERT_EQ(0, tcmd_check_refs(iommufd, mem, len, 0));
	ASSERT_EQ(self->refcnt0, module_refcnt());
	ASSERT_EQ(0, domain_iova_to_phys(IOVA));

	/* The group is free again, and works. */
	self->container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, self->container);
	self->group = open(group_path(), O_RDWR);
	ASSERT_LE(0, self->group);
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	ASSERT_EQ(0, set_iommu(self->container, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_map(self->container, mem, IOVA, PG));
	ASSERT_EQ(va_to_phys(mem), domain_iova_to_phys(IOVA));
	ASSERT_EQ((long)PG, vfio_unmap(self->container, IOVA, PG, 0));
	munmap(mem, len);
	close(mfd);
	close(pipefd[0]);
	close(iommufd);
}

/* What a fault test maps: @len bytes at @buf, to IOVA. */
struct fault_buf {
	int iommufd;
	__u8 *buf;
	size_t len;
	long pinned0;
};

/* The whole buffer at IOVA in the domain, and pinned once, or not at all. */
static void check_mapped(struct __test_metadata *_metadata,
			 const struct fault_buf *fb, bool mapped, int n)
{
	for (size_t i = 0; i != fb->len / PG; i++) {
		__u64 want = mapped ? va_to_phys(fb->buf + i * PG) : 0;

		ASSERT_EQ(want, domain_iova_to_phys(IOVA + i * PG))
			TH_LOG("n=%d page %zu", n, i);
	}
	ASSERT_EQ(0, tcmd_check_refs(fb->iommufd, fb->buf, fb->len,
				     mapped ? 1 : 0)) TH_LOG("n=%d", n);
	ASSERT_EQ(fb->pinned0 + (mapped ? (long)(fb->len >> 10) : 0),
		  pinned_kb()) TH_LOG("n=%d", n);
}

/*
 * Fail-nth on the real path: the Nth fault event (allocation, pin, user
 * copy, iommu_map) of the operation fails, for N = 1, 2, ... until the
 * operation succeeds without a fault firing. Each failure must leave
 * nothing behind: no pin, no charge, nothing in the real domain, no
 * container reference, and the container (or group) usable again.
 */
FIXTURE(faults)
{
	struct fault_buf fb;
	int container;
	int group;
	long refcnt0;
};

FIXTURE_SETUP(faults)
{
	self->fb.iommufd = -1;
	self->container = -1;
	self->group = -1;
	self->fb.buf = MAP_FAILED;
	if (!group_path())
		SKIP(return, "no VFIO group (IOMMUFD_VFIO_GROUP unset)");
	if (!ours_serves())
		SKIP(return, "%s is not the driver loaded (IOMMUFD_EDU_EXPECT_MODULE)",
		     VFIO_MOD);
	self->refcnt0 = module_refcnt();
	self->fb.pinned0 = pinned_kb();
	/* The test core's /dev/iommu: FAIL_NTH and MD_CHECK_REFS. */
	self->fb.iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->fb.iommufd);
	self->fb.len = 16 * PG;
	self->fb.buf = mmap(NULL, self->fb.len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->fb.buf);
	memset(self->fb.buf, 0x3c, self->fb.len);
	self->container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, self->container);
	self->group = open(group_path(), O_RDWR);
	ASSERT_LE(0, self->group);
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
}

FIXTURE_TEARDOWN(faults)
{
	int fired;

	if (self->fb.iommufd >= 0)
		fail_nth_disarm(self->fb.iommufd, &fired);
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	if (self->fb.buf != MAP_FAILED) {
		if (self->fb.iommufd >= 0)
			EXPECT_EQ(0, tcmd_check_refs(self->fb.iommufd, self->fb.buf,
						     self->fb.len, 0));
		munmap(self->fb.buf, self->fb.len);
	}
	if (self->fb.iommufd >= 0)
		close(self->fb.iommufd);
	if (group_path() && ours_serves()) {
		EXPECT_EQ(self->refcnt0, module_refcnt());
		EXPECT_EQ(self->fb.pinned0, pinned_kb());
	}
}

/* A fault loop's step: arm the Nth event, run @op, disarm. */
#define FAIL_NTH_STEP(n, fired, op)                                          \
	({                                                                   \
		long __rc;                                                   \
		ASSERT_EQ(0, fail_nth_arm(self->fb.iommufd, n, MOCK_FAULT_ALL)); \
		__rc = (op);                                                 \
		ASSERT_EQ(0, fail_nth_disarm(self->fb.iommufd, &(fired)));      \
		__rc;                                                        \
	})

#define FAIL_NTH_MAX 2000

/*
 * VFIO_SET_IOMMU: our open (a context, its compat IOAS) and the group's
 * attach (device objects, reserved regions, a real paging domain,
 * iommu_attach_group()). A failure leaves the container without a driver
 * and the group on VFIO's blocking domain; SET_IOMMU then works. With
 * vfio_iommu_type1 loaded, VFIO hands a SET_IOMMU we refused on to it:
 * then type1 serves the container, and nothing of ours is left.
 */
TEST_F_TIMEOUT(faults, set_iommu_attach, 300)
{
	const char *loaded = getenv("IOMMUFD_VFIO_TYPE1_LOADED");
	bool type1_loaded = loaded && !strcmp(loaded, "1");
	int n, fired;
	long rc;

	for (n = 1; n != FAIL_NTH_MAX; n++) {
		rc = FAIL_NTH_STEP(n, fired,
				   set_iommu(self->container,
					     VFIO_TYPE1v2_IOMMU));
		if (!rc && type1_loaded &&
		    !ioctl(self->container, VFIO_CHECK_EXTENSION,
			   IOMMUFD_OOT_VFIO_TYPE)) {
			/* We refused; type1 took the container. */
			ASSERT_TRUE(fired) TH_LOG("n=%d", n);
			ASSERT_EQ(self->refcnt0, module_refcnt())
				TH_LOG("n=%d", n);
			ASSERT_EQ(0, domain_iova_to_phys(IOVA));
			ASSERT_EQ(0, ioctl(self->group,
					   VFIO_GROUP_UNSET_CONTAINER));
			ASSERT_EQ(self->fb.pinned0, pinned_kb());
			ASSERT_EQ(0, ioctl(self->group,
					   VFIO_GROUP_SET_CONTAINER,
					   &self->container));
			continue;
		}
		if (!rc) {
			/* Served by us, and working. */
			ASSERT_EQ(1, ioctl(self->container,
					   VFIO_CHECK_EXTENSION,
					   IOMMUFD_OOT_VFIO_TYPE));
			ASSERT_EQ(0, vfio_map(self->container, self->fb.buf,
					      IOVA, self->fb.len));
			check_mapped(_metadata, &self->fb, true, n);
			ASSERT_EQ((long)self->fb.len,
				  vfio_unmap(self->container, IOVA,
					     self->fb.len, 0));
			if (!fired)
				break;
			/* A fault absorbed: start again from no driver. */
			ASSERT_EQ(0, ioctl(self->group,
					   VFIO_GROUP_UNSET_CONTAINER));
			ASSERT_EQ(self->refcnt0, module_refcnt());
			ASSERT_EQ(0, ioctl(self->group,
					   VFIO_GROUP_SET_CONTAINER,
					   &self->container));
			continue;
		}
		ASSERT_TRUE(fired) TH_LOG("n=%d: rc %ld without a fault", n, rc);
		ASSERT_EQ(self->refcnt0, module_refcnt()) TH_LOG("n=%d", n);
		ASSERT_EQ(self->fb.pinned0, pinned_kb()) TH_LOG("n=%d", n);
		ASSERT_EQ(0, domain_iova_to_phys(IOVA)) TH_LOG("n=%d", n);
	}
	ASSERT_NE(FAIL_NTH_MAX, n);
	TH_LOG("SET_IOMMU succeeded at n=%d", n);
}

/*
 * A second group joins a container that has mappings
 * (VFIO_GROUP_SET_CONTAINER, our attach_group): a failure leaves it out
 * and the first group's mappings as they were.
 */
TEST_F_TIMEOUT(faults, second_group_attach, 300)
{
	int other = other_edu_group();
	char path[64];
	int n, fired, g2;
	long rc;

	if (other < 0)
		SKIP(return, "no second edu group");
	snprintf(path, sizeof(path), "/dev/vfio/%d", other);
	g2 = open(path, O_RDWR);
	ASSERT_LE(0, g2);
	ASSERT_EQ(0, set_iommu(self->container, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_map(self->container, self->fb.buf, IOVA, self->fb.len));
	for (n = 1; n != FAIL_NTH_MAX; n++) {
		rc = FAIL_NTH_STEP(n, fired,
				   ioctl(g2, VFIO_GROUP_SET_CONTAINER,
					 &self->container) ? -errno : 0);
		check_mapped(_metadata, &self->fb, true, n);
		if (!rc) {
			if (!fired)
				break;
			ASSERT_EQ(0, ioctl(g2, VFIO_GROUP_UNSET_CONTAINER));
			continue;
		}
		ASSERT_TRUE(fired) TH_LOG("n=%d: rc %ld without a fault", n, rc);
	}
	ASSERT_NE(FAIL_NTH_MAX, n);
	TH_LOG("SET_CONTAINER succeeded at n=%d", n);
	ASSERT_EQ(0, ioctl(g2, VFIO_GROUP_UNSET_CONTAINER));
	close(g2);
	ASSERT_EQ((long)self->fb.len,
		  vfio_unmap(self->container, IOVA, self->fb.len, 0));
	check_mapped(_metadata, &self->fb, false, n);
}

/* VFIO_IOMMU_MAP_DMA onto the real domain. */
TEST_F_TIMEOUT(faults, map_dma, 300)
{
	int n, fired;
	long rc;

	ASSERT_EQ(0, set_iommu(self->container, VFIO_TYPE1v2_IOMMU));
	for (n = 1; n != FAIL_NTH_MAX; n++) {
		rc = FAIL_NTH_STEP(n, fired,
				   vfio_map(self->container, self->fb.buf, IOVA,
					    self->fb.len));
		if (!rc) {
			check_mapped(_metadata, &self->fb, true, n);
			if (!fired)
				break;
			ASSERT_EQ((long)self->fb.len,
				  vfio_unmap(self->container, IOVA,
					     self->fb.len, 0));
			continue;
		}
		ASSERT_TRUE(fired) TH_LOG("n=%d: rc %ld without a fault", n, rc);
		check_mapped(_metadata, &self->fb, false, n);
	}
	ASSERT_NE(FAIL_NTH_MAX, n);
	TH_LOG("MAP_DMA succeeded at n=%d", n);
	ASSERT_EQ((long)self->fb.len,
		  vfio_unmap(self->container, IOVA, self->fb.len, 0));
	check_mapped(_metadata, &self->fb, false, n);
}

/*
 * VFIO_IOMMU_UNMAP_DMA out of the real domain: a failure leaves the
 * mapping whole, but for one case: the unmapped size is written back
 * after the unmap, and a fault there (EFAULT, as from type1 and upstream's
 * compat, which write back the same way) comes when the mapping is gone
 * already. Then it is gone entirely: not a page left mapped or pinned.
 */
TEST_F_TIMEOUT(faults, unmap_dma, 300)
{
	int n, fired;
	long rc;

	ASSERT_EQ(0, set_iommu(self->container, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_map(self->container, self->fb.buf, IOVA, self->fb.len));
	for (n = 1; n != FAIL_NTH_MAX; n++) {
		rc = FAIL_NTH_STEP(n, fired,
				   vfio_unmap(self->container, IOVA,
					      self->fb.len, 0));
		if (rc >= 0) {
			ASSERT_EQ((long)self->fb.len, rc);
			check_mapped(_metadata, &self->fb, false, n);
			if (!fired)
				break;
			ASSERT_EQ(0, vfio_map(self->container, self->fb.buf,
					      IOVA, self->fb.len));
			continue;
		}
		ASSERT_TRUE(fired) TH_LOG("n=%d: rc %ld without a fault", n, rc);
		if (domain_iova_to_phys(IOVA)) {
			check_mapped(_metadata, &self->fb, true, n);
			continue;
		}
		/* Unmapped, then the write-back failed. */
		ASSERT_EQ(-EFAULT, rc) TH_LOG("n=%d", n);
		check_mapped(_metadata, &self->fb, false, n);
		ASSERT_EQ(0, vfio_map(self->container, self->fb.buf, IOVA,
				      self->fb.len));
	}
	ASSERT_NE(FAIL_NTH_MAX, n);
	TH_LOG("UNMAP_DMA succeeded at n=%d", n);
}

TEST_HARNESS_MAIN
