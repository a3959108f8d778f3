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
#include <sys/mman.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "iommufd_utils.h"

#define VFIO_MOD "iommufd_oot_test_vfio"
#define XLATE "/sys/kernel/debug/" VFIO_MOD "/iova_to_phys"
#define PARAM_TYPE1 "/sys/module/" VFIO_MOD "/parameters/type1"
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

/* While a container uses it, the module cannot be unloaded. */
TEST_F(vfio_backend, unload_refused_while_in_use)
{
	ASSERT_EQ(0, set_iommu(self->container, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(-1, syscall(SYS_delete_module, VFIO_MOD, O_NONBLOCK));
	ASSERT_EQ(EWOULDBLOCK, errno);
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

TEST_HARNESS_MAIN
