// SPDX-License-Identifier: GPL-2.0
/*
 * Emulated (mdev) groups in a /dev/vfio/vfio container: an emulated
 * device (test_mdev.ko, tools/vm/test_mdev.c) pins pages, unpins them
 * and reads and writes memory by IOVA through the container's IOMMU
 * driver, on request through its private device ioctl. The same tests
 * run against stock vfio_iommu_type1 ("vfio-type1") and ours
 * ("vfio-oot-test"): both must give type1's answers.
 *
 * Environment (tools/vm/init.sh, real-device boots):
 *   IOMMUFD_EDU_EXPECT_MODULE   the VFIO IOMMU driver loaded to serve
 *                               containers
 * Without test_mdev.ko loaded (no /sys/class/mdev_bus/test_mdev), every
 * test SKIPs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "iommufd_utils.h"
#include "../../tools/vm/test_mdev.h"

#define PARENT "/sys/class/mdev_bus/test_mdev"
#define OUR_MOD "iommufd_oot_test_vfio"
#define PG 4096UL
#define IOVA 0x10000000UL
#define NPAGES 1024UL
#define MAGIC 0x5a5a000000000000ULL
#define PROT_R 1
#define PROT_W 2

static bool ours_serves(void)
{
	const char *mod = getenv("IOMMUFD_EDU_EXPECT_MODULE");

	return mod && !strcmp(mod, OUR_MOD);
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

/* The create file of test_mdev's one type, found by glob. */
static int create_path(char *buf, size_t len)
{
	char pattern[] = PARENT "/mdev_supported_types";
	struct dirent *d;
	DIR *dir = opendir(pattern);
	int rc = -ENOENT;

	if (!dir)
		return -ENOENT;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(buf, len, "%s/%s/create", pattern, d->d_name);
		rc = 0;
		break;
	}
	closedir(dir);
	return rc;
}

/* VmPin + VmLck in kB: type1 charges locked_vm, we charge pinned_vm. */
static long pinned_kb(void)
{
	return proc_status_kb("VmPin") + proc_status_kb("VmLck");
}

static int vfio_map(int container, void *va, unsigned long iova,
		    unsigned long size, __u32 flags)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = flags,
		.vaddr = (unsigned long)va,
		.iova = iova,
		.size = size,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

static long vfio_unmap(int container, unsigned long iova, unsigned long size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = size,
	};

	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return -errno;
	return unmap.size;
}

#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

FIXTURE(mdev) {
	char uuid[40];
	char dev_dir[128];
	int container;
	int group;
	int device;
	long pinned0;
	__u64 *buf;
	__u64 out[TEST_MDEV_MAX_PIN];
};

/* The mdev's group, /dev/vfio/N, from its iommu_group link. */
static int open_group(const char *dev_dir)
{
	char link[256], path[300], *p;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/iommu_group", dev_dir);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	p = strrchr(link, '/');
	snprintf(path, sizeof(path), "/dev/vfio/%s", p ? p + 1 : link);
	return open(path, O_RDWR);
}

FIXTURE_SETUP(mdev)
{
	char create[512];
	unsigned long i;
	int fd;

	self->container = -1;
	self->group = -1;
	self->device = -1;
	self->buf = MAP_FAILED;
	self->uuid[0] = 0;
	if (create_path(create, sizeof(create)))
		SKIP(return, "test_mdev.ko is not loaded (no %s)", PARENT);
	if (!getenv("IOMMUFD_EDU_EXPECT_MODULE"))
		SKIP(return, "no VFIO IOMMU driver named (IOMMUFD_EDU_EXPECT_MODULE)");
	fd = open("/proc/sys/kernel/random/uuid", O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(36, read(fd, self->uuid, 36));
	self->uuid[36] = 0;
	close(fd);
	ASSERT_EQ(0, write_str(create, self->uuid));
	snprintf(self->dev_dir, sizeof(self->dev_dir),
		 "/sys/bus/mdev/devices/%s", self->uuid);

	self->buf = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	for (i = 0; i < NPAGES; i++)
		self->buf[i * PG / 8] = MAGIC + i;
	self->pinned0 = pinned_kb();

	self->container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, self->container);
	self->group = open_group(self->dev_dir);
	ASSERT_LE(0, self->group);
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
}

FIXTURE_TEARDOWN(mdev)
{
	char path[200];

	if (self->device >= 0)
		close(self->device);
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	/* Whatever was pinned, accounting is back where it started. */
	if (self->buf != MAP_FAILED) {
		EXPECT_EQ(self->pinned0, pinned_kb());
		munmap(self->buf, NPAGES * PG);
	}
	if (self->uuid[0]) {
		snprintf(path, sizeof(path), "%s/remove", self->dev_dir);
		EXPECT_EQ(0, write_str(path, "1"));
	}
}

#define mdev_data_t FIXTURE_DATA(mdev)

/* SET_IOMMU @type, then the device fd. */
static int open_device(struct __test_metadata *_metadata,
		       mdev_data_t *self, unsigned long type)
{
	if (ioctl(self->container, VFIO_SET_IOMMU, type))
		return -errno;
	/* The driver the runner loaded is the one that serves. */
	EXPECT_EQ(ours_serves(), ioctl(self->container, VFIO_CHECK_EXTENSION,
				       IOMMUFD_OOT_VFIO_TYPE));
	self->device = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD,
			     self->uuid);
	return self->device < 0 ? -errno : 0;
}

static int mdev_cmd(int device, struct test_mdev_cmd *cmd)
{
	return ioctl(device, TEST_MDEV_IOCTL, cmd) ? -errno : 0;
}

/* PIN: the VFIO call's return (npage or -errno). */
static long mdev_pin(mdev_data_t *self, unsigned long iova,
		     unsigned long npage, __u32 prot, __u64 pattern)
{
	struct test_mdev_cmd cmd = {
		.op = TEST_MDEV_PIN,
		.iova = iova,
		.npage = npage,
		.prot = prot,
		.uptr = (unsigned long)self->out,
		.pattern = pattern,
	};
	int rc = mdev_cmd(self->device, &cmd);

	return rc ? rc : cmd.result;
}

static long mdev_unpin(int device, unsigned long iova)
{
	struct test_mdev_cmd cmd = { .op = TEST_MDEV_UNPIN, .iova = iova };
	int rc = mdev_cmd(device, &cmd);

	return rc ? rc : cmd.result;
}

static long mdev_rw(int device, unsigned long iova, void *data,
		    unsigned long length, bool write)
{
	struct test_mdev_cmd cmd = {
		.op = write ? TEST_MDEV_WRITE : TEST_MDEV_READ,
		.iova = iova,
		.length = length,
		.uptr = (unsigned long)data,
	};
	int rc = mdev_cmd(device, &cmd);

	return rc ? rc : cmd.result;
}

static struct test_mdev_cmd mdev_status(int device)
{
	struct test_mdev_cmd cmd = { .op = TEST_MDEV_STATUS };

	if (mdev_cmd(device, &cmd)) {
		cmd.npinned = ~0ULL;
		cmd.unmap_calls = ~0ULL;
	}
	return cmd;
}

/* Pinned pages are the user's: the device sees what the user wrote. */
TEST_F(mdev, pin_sees_user_pages)
{
	unsigned long i;

	ASSERT_EQ(0, open_device(_metadata, self, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA, 64 * PG, RW));
	ASSERT_EQ(16, mdev_pin(self, IOVA + 8 * PG, 16, PROT_R, 0));
	for (i = 0; i < 16; i++)
		ASSERT_EQ(MAGIC + 8 + i, self->out[i]);
	ASSERT_EQ(16, mdev_status(self->device).npinned);
	/* The pins are charged. */
	ASSERT_LE(self->pinned0 + 16 * PG / 1024, pinned_kb());

	/* A write through a write pin lands in the user's page. */
	ASSERT_EQ(4, mdev_pin(self, IOVA + 32 * PG, 4, PROT_R | PROT_W,
			      0x77000));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0x77000 + i, self->buf[(32 + i) * PG / 8]);

	ASSERT_EQ(0, mdev_unpin(self->device, IOVA + 8 * PG));
	ASSERT_EQ(0, mdev_unpin(self->device, IOVA + 32 * PG));
	ASSERT_EQ(0, mdev_status(self->device).npinned);
	ASSERT_EQ(self->pinned0, pinned_kb());
	/* No pin was in the way: no callback. */
	ASSERT_EQ(64 * PG, vfio_unmap(self->container, IOVA, 64 * PG));
	ASSERT_EQ(0, mdev_status(self->device).unmap_calls);
}

/* An IOVA inside a page pins that page. */
TEST_F(mdev, pin_unaligned_iova)
{
	ASSERT_EQ(0, open_device(_metadata, self, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA, 4 * PG, RW));
	ASSERT_EQ(1, mdev_pin(self, IOVA + 2 * PG + 100, 1, PROT_R, 0));
	ASSERT_EQ(MAGIC + 2, self->out[0]);
}

/* The same page pinned twice is held until both pins are undone. */
TEST_F(mdev, pin_twice)
{
	ASSERT_EQ(0, open_device(_metadata, self, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA, 4 * PG, RW));
	ASSERT_EQ(2, mdev_pin(self, IOVA, 2, PROT_R, 0));
	ASSERT_EQ(1, mdev_pin(self, IOVA + PG, 1, PROT_R, 0));
	ASSERT_EQ(0, mdev_unpin(self->device, IOVA));
	ASSERT_EQ(1, mdev_status(self->device).npinned);
	ASSERT_LT(self->pinned0, pinned_kb());
	ASSERT_EQ(0, mdev_unpin(self->device, IOVA + PG));
	ASSERT_EQ(self->pinned0, pinned_kb());
}

TEST_F(mdev, pin_refusals)
{
	long before;

	ASSERT_EQ(0, open_device(_metadata, self, VFIO_TYPE1v2_IOMMU));
	/* Nothing mapped. */
	ASSERT_EQ(-EINVAL, mdev_pin(self, IOVA, 1, PROT_R, 0));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA, 8 * PG, RW));
	ASSERT_EQ(0, vfio_map(self->container, self->buf + 16 * PG / 8,
			      IOVA + 16 * PG, 4 * PG, VFIO_DMA_MAP_FLAG_READ));
	before = pinned_kb();
	/* The last page is not mapped: nothing stays pinned. */
	ASSERT_EQ(-EINVAL, mdev_pin(self, IOVA + 4 * PG, 5, PROT_R, 0));
	ASSERT_EQ(-EINVAL, mdev_pin(self, IOVA - PG, 2, PROT_R, 0));
	/* Write pins of a read-only mapping. */
	ASSERT_EQ(-EPERM, mdev_pin(self, IOVA + 16 * PG, 1, PROT_W, 0));
	ASSERT_EQ(-EPERM, mdev_pin(self, IOVA + 16 * PG, 2,
				   PROT_R | PROT_W, 0));
	/* A protection bit no mapping has. */
	ASSERT_EQ(-EPERM, mdev_pin(self, IOVA, 1, 4, 0));
	ASSERT_EQ(0, mdev_status(self->device).npinned);
	ASSERT_EQ(before, pinned_kb());
	/* Reading it is allowed. */
	ASSERT_EQ(2, mdev_pin(self, IOVA + 16 * PG, 2, PROT_R, 0));
	ASSERT_EQ(MAGIC + 17, self->out[1]);
}

/* VFIO_PIN_PAGES_MAX_ENTRIES pages a call at most. */
TEST_F(mdev, pin_max_entries)
{
	ASSERT_EQ(0, open_device(_metadata, self, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA, NPAGES * PG,
			      RW));
	ASSERT_EQ(-E2BIG, mdev_pin(self, IOVA, 513, PROT_R, 0));
	ASSERT_EQ(-E2BIG, mdev_pin(self, IOVA, NPAGES, PROT_R, 0));
	ASSERT_EQ(0, mdev_status(self->device).npinned);
	ASSERT_EQ(512, mdev_pin(self, IOVA + PG, 512, PROT_R | PROT_W, 0));
	ASSERT_EQ(MAGIC + 512, self->out[511]);
	ASSERT_EQ(512, mdev_status(self->device).npinned);
}

/* Type1 (v1) containers: no pins (EACCES), dma_rw works. */
TEST_F(mdev, v1_container)
{
	__u64 val = 0;

	ASSERT_EQ(0, open_device(_metadata, self, VFIO_TYPE1_IOMMU));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA, 4 * PG, RW));
	ASSERT_EQ(-EACCES, mdev_pin(self, IOVA, 1, PROT_R, 0));
	ASSERT_EQ(0, mdev_rw(self->device, IOVA + 3 * PG, &val, 8, false));
	ASSERT_EQ(MAGIC + 3, val);
}

/* Our own type number has TYPE1v2's rules. */
TEST_F(mdev, own_type)
{
	if (!ours_serves())
		SKIP(return, "our type number is ours only");
	ASSERT_EQ(0, open_device(_metadata, self, IOMMUFD_OOT_VFIO_TYPE));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA, 4 * PG, RW));
	ASSERT_EQ(2, mdev_pin(self, IOVA + PG, 2, PROT_R, 0));
	ASSERT_EQ(MAGIC + 2, self->out[1]);
}

TEST_F(mdev, dma_rw)
{
	char data[300], back[300];
	char *bytes = (char *)self->buf;
	unsigned int i;

	ASSERT_EQ(0, open_device(_metadata, self, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA, 4 * PG, RW));
	ASSERT_EQ(0, vfio_map(self->container, self->buf + 8 * PG / 8,
			      IOVA + 4 * PG, 2 * PG, VFIO_DMA_MAP_FLAG_READ));
	for (i = 0; i < sizeof(data); i++)
		data[i] = i * 7;
	/* Across a page boundary, into the user's memory. */
	ASSERT_EQ(0, mdev_rw(self->device, IOVA + PG - 100, data,
			     sizeof(data), true));
	ASSERT_EQ(0, memcmp(bytes + PG - 100, data, sizeof(data)));
	memset(back, 0, sizeof(back));
	ASSERT_EQ(0, mdev_rw(self->device, IOVA + PG - 100, back,
			     sizeof(back), false));
	ASSERT_EQ(0, memcmp(back, data, sizeof(data)));
	/* What the user writes, the device reads. */
	bytes[3 * PG + 5] = 0x42;
	ASSERT_EQ(0, mdev_rw(self->device, IOVA + 3 * PG + 5, back, 1,
			     false));
	ASSERT_EQ(0x42, back[0]);
	/* Across two mappings. */
	ASSERT_EQ(0, mdev_rw(self->device, IOVA + 4 * PG - 8, back, 16,
			     false));
	ASSERT_EQ(0, memcmp(back + 8, bytes + 8 * PG, 8));
	/* A read-only mapping: read yes, write EPERM, nothing written. */
	ASSERT_EQ(-EPERM, mdev_rw(self->device, IOVA + 4 * PG, data, 8,
				  true));
	ASSERT_EQ(MAGIC + 8, self->buf[8 * PG / 8]);
	/* Not mapped, or running off the end of the mappings. */
	ASSERT_EQ(-EINVAL, mdev_rw(self->device, IOVA + 6 * PG, back, 8,
				   false));
	ASSERT_EQ(-EINVAL, mdev_rw(self->device, IOVA - 4, back, 8, false));
	ASSERT_EQ(-EINVAL, mdev_rw(self->device, IOVA + 6 * PG - 4, back, 8,
				   false));
}

/*
 * dma_rw from another process than the one that mapped (a VMM's device
 * thread may be anywhere): ours reaches the mapper's memory, as
 * upstream's iommufd does; type1 copies only in the mapper's mm or a
 * kernel thread, and fails other processes with EFAULT.
 */
TEST_F(mdev, dma_rw_from_another_process)
{
	__u64 mark = 0x1234567;
	int status;
	pid_t pid;

	ASSERT_EQ(0, open_device(_metadata, self, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA, 4 * PG, RW));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		__u64 val = 0;

		if (!ours_serves())
			_exit(mdev_rw(self->device, IOVA, &val, 8, false) ==
			      -EFAULT ? 0 : 3);
		if (mdev_rw(self->device, IOVA + 2 * PG, &val, 8, false) ||
		    val != MAGIC + 2)
			_exit(1);
		if (mdev_rw(self->device, IOVA + 3 * PG + 8, &mark, 8, true))
			_exit(2);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	if (ours_serves())
		ASSERT_EQ(mark, self->buf[(3 * PG + 8) / 8]);
}

/* UNMAP_DMA of pinned pages: dma_unmap first, then the pins are gone. */
TEST_F(mdev, unmap_calls_dma_unmap)
{
	struct test_mdev_cmd st;

	ASSERT_EQ(0, open_device(_metadata, self, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA, 16 * PG, RW));
	ASSERT_EQ(0, vfio_map(self->container, self->buf + 32 * PG / 8,
			      IOVA + 32 * PG, 16 * PG, RW));
	ASSERT_EQ(4, mdev_pin(self, IOVA + 2 * PG, 4, PROT_R, 0));
	ASSERT_EQ(2, mdev_pin(self, IOVA + 40 * PG, 2, PROT_R | PROT_W, 0));
	ASSERT_LT(self->pinned0, pinned_kb());

	ASSERT_EQ(16 * PG, vfio_unmap(self->container, IOVA, 16 * PG));
	st = mdev_status(self->device);
	ASSERT_LE(1, st.unmap_calls);
	/* Only the pins in the unmapped range were asked for. */
	ASSERT_EQ(2, st.npinned);
	/* The pages are gone from the IOVA space. */
	ASSERT_EQ(-EINVAL, mdev_pin(self, IOVA + 2 * PG, 1, PROT_R, 0));

	ASSERT_EQ(16 * PG, vfio_unmap(self->container, IOVA + 32 * PG,
				      16 * PG));
	st = mdev_status(self->device);
	ASSERT_LE(2, st.unmap_calls);
	ASSERT_EQ(0, st.npinned);
	ASSERT_EQ(self->pinned0, pinned_kb());
}

/* Closing the device fd with pins held gives them back. */
TEST_F(mdev, close_device_with_pins)
{
	ASSERT_EQ(0, open_device(_metadata, self, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA, 64 * PG, RW));
	ASSERT_EQ(64, mdev_pin(self, IOVA, 64, PROT_R | PROT_W, 0));
	ASSERT_LE(self->pinned0 + 64 * PG / 1024, pinned_kb());
	ASSERT_EQ(0, close(self->device));
	self->device = -1;
	ASSERT_EQ(self->pinned0, pinned_kb());
	/* The mapping stays, and a new open of the device can pin again. */
	self->device = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD,
			     self->uuid);
	ASSERT_LE(0, self->device);
	ASSERT_EQ(1, mdev_pin(self, IOVA + 5 * PG, 1, PROT_R, 0));
	ASSERT_EQ(MAGIC + 5, self->out[0]);
}

/*
 * An emulated and a real group (edu's, IOMMUFD_VFIO_GROUP) in one
 * container: the emulated device pins the pages the real domain maps,
 * and keeps working when the real group leaves.
 */
TEST_F(mdev, shares_container_with_real_group)
{
	const char *path = getenv("IOMMUFD_VFIO_GROUP");
	__u64 val = 0;
	int edu;

	if (!path)
		SKIP(return, "no real VFIO group (IOMMUFD_VFIO_GROUP unset)");
	edu = open(path, O_RDWR);
	ASSERT_LE(0, edu);
	ASSERT_EQ(0, ioctl(edu, VFIO_GROUP_SET_CONTAINER, &self->container));
	ASSERT_EQ(0, open_device(_metadata, self, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA, 16 * PG, RW));
	ASSERT_EQ(4, mdev_pin(self, IOVA + 2 * PG, 4, PROT_R, 0));
	ASSERT_EQ(MAGIC + 5, self->out[3]);
	ASSERT_EQ(16 * PG, vfio_unmap(self->container, IOVA, 16 * PG));
	ASSERT_LE(1, mdev_status(self->device).unmap_calls);
	ASSERT_EQ(0, mdev_status(self->device).npinned);

	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA, 16 * PG, RW));
	ASSERT_EQ(4, mdev_pin(self, IOVA + 8 * PG, 4, PROT_R | PROT_W,
			      0x99000));
	ASSERT_EQ(0x99003, self->buf[11 * PG / 8]);
	/* The real group leaves; the pins and the mapping stay. */
	ASSERT_EQ(0, close(edu));
	ASSERT_EQ(4, mdev_status(self->device).npinned);
	ASSERT_EQ(0, mdev_rw(self->device, IOVA + 9 * PG, &val, 8, false));
	ASSERT_EQ(0x99001, val);
}

/* The start of the first "msi" reserved region of IOMMU group @path. */
static unsigned long group_msi_start(const char *path)
{
	unsigned long start = 0, end;
	char sys[128], type[32];
	const char *n = strrchr(path, '/');
	FILE *f;

	snprintf(sys, sizeof(sys), "/sys/kernel/iommu_groups/%s/reserved_regions",
		 n ? n + 1 : path);
	f = fopen(sys, "r");
	if (!f)
		return 0;
	while (fscanf(f, "%lx %lx %31s", &start, &end, type) == 3)
		if (!strcmp(type, "msi"))
			break;
	if (strcmp(type, "msi"))
		start = 0;
	fclose(f);
	return start;
}

/*
 * A group whose reserved region (its MSI window) holds a mapping the
 * container already has is refused, EINVAL as type1, and nothing
 * changes: the mapping stays and serves the emulated device; once it is
 * gone the group joins.
 */
TEST_F(mdev, real_group_clashing_with_a_mapping_is_refused)
{
	const char *path = getenv("IOMMUFD_VFIO_GROUP");
	unsigned long msi;
	int edu;

	if (!path)
		SKIP(return, "no real VFIO group (IOMMUFD_VFIO_GROUP unset)");
	msi = group_msi_start(path);
	ASSERT_NE(0, msi);
	ASSERT_EQ(0, open_device(_metadata, self, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, msi, 4 * PG, RW));
	edu = open(path, O_RDWR);
	ASSERT_LE(0, edu);
	ASSERT_EQ(-1, ioctl(edu, VFIO_GROUP_SET_CONTAINER, &self->container));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(2, mdev_pin(self, msi + PG, 2, PROT_R, 0));
	ASSERT_EQ(MAGIC + 1, self->out[0]);
	ASSERT_EQ(MAGIC + 2, self->out[1]);
	ASSERT_EQ(4 * PG, vfio_unmap(self->container, msi, 4 * PG));
	ASSERT_EQ(0, mdev_status(self->device).npinned);
	ASSERT_EQ(0, ioctl(edu, VFIO_GROUP_SET_CONTAINER, &self->container));
	ASSERT_EQ(-EINVAL, vfio_map(self->container, self->buf, msi, PG, RW));
	ASSERT_EQ(0, ioctl(edu, VFIO_GROUP_UNSET_CONTAINER));
	ASSERT_EQ(0, close(edu));
}

/* GET_BITMAP of [@iova, @iova + @npages * PG) into @bm as it is. */
static int dirty_get_over(int container, unsigned long iova,
			  unsigned long npages, __u64 *bm, size_t words)
{
	struct {
		struct vfio_iommu_type1_dirty_bitmap hdr;
		struct vfio_iommu_type1_dirty_bitmap_get get;
	} arg = {
		.hdr = {
			.argsz = sizeof(arg),
			.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
		},
		.get = {
			.iova = iova,
			.size = npages * PG,
			.bitmap = {
				.pgsize = PG,
				.size = words * 8,
				.data = bm,
			},
		},
	};

	return ioctl(container, VFIO_IOMMU_DIRTY_PAGES, &arg) ? -errno : 0;
}

/* GET_BITMAP of [@iova, @iova + @npages * PG) into a zeroed @bm. */
static int dirty_get(int container, unsigned long iova, unsigned long npages,
		     __u64 *bm, size_t words)
{
	memset(bm, 0, words * 8);
	return dirty_get_over(container, iova, npages, bm, words);
}

/*
 * UNMAP_DMA of [@iova, @iova + @npages * PG) with its dirty bitmap into a
 * zeroed @bm: the bytes unmapped, or -errno.
 */
static long unmap_dirty(int container, unsigned long iova,
			unsigned long npages, __u64 *bm, size_t words)
{
	struct {
		struct vfio_iommu_type1_dma_unmap unmap;
		struct vfio_bitmap bitmap;
	} arg = {
		.unmap = {
			.argsz = sizeof(arg),
			.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
			.iova = iova,
			.size = npages * PG,
		},
		.bitmap = { .pgsize = PG, .size = words * 8, .data = bm },
	};

	memset(bm, 0, words * 8);
	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &arg))
		return -errno;
	return arg.unmap.size;
}

static int dirty_flag(int container, __u32 flag)
{
	struct vfio_iommu_type1_dirty_bitmap arg = {
		.argsz = sizeof(arg),
		.flags = flag,
	};

	return ioctl(container, VFIO_IOMMU_DIRTY_PAGES, &arg) ? -errno : 0;
}

/*
 * The bitmap has exactly the pages of @pages (page numbers from the
 * bitmap's start, ended by -1) set, bit for bit.
 */
static void expect_bits(struct __test_metadata *_metadata, const __u64 *bm,
			size_t words, const int *pages)
{
	__u64 want[8] = {};
	size_t i;

	ASSERT_GE(8, words);
	for (; *pages >= 0; pages++)
		want[*pages / 64] |= 1ULL << (*pages % 64);
	for (i = 0; i < words; i++) {
		if (bm[i] != want[i])
			TH_LOG("word %zu: %#llx, want %#llx", i,
			       (unsigned long long)bm[i],
			       (unsigned long long)want[i]);
		EXPECT_EQ(want[i], bm[i]);
	}
}

/*
 * Dirty pages of a container with emulated groups only: type1's pinned
 * page scope. Pages pinned when tracking starts, pages pinned while it
 * is on (even if unpinned since, even if the pin call failed on a later
 * page) and pages dma_rw wrote; each read clears all but the pages still
 * pinned. Bit for bit the same against type1 and ours.
 */
TEST_F(mdev, dirty_pinned_scope)
{
	const int none[] = { -1 };
	__u64 bm[3], val = 7;

	ASSERT_EQ(0, open_device(_metadata, self, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA, 64 * PG, RW));
	ASSERT_EQ(0, vfio_map(self->container, self->buf + 64 * PG / 8,
			      IOVA + 128 * PG, 16 * PG, RW));
	ASSERT_EQ(2, mdev_pin(self, IOVA + 2 * PG, 2, PROT_R, 0));
	/* Tracking off: no bitmap. */
	ASSERT_EQ(-EINVAL, dirty_get(self->container, IOVA, 64, bm, 1));

	ASSERT_EQ(0, dirty_flag(self->container,
				VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 64, bm, 1));
	expect_bits(_metadata, bm, 1, (const int[]){ 2, 3, -1 });

	/* Pinned and unpinned while tracking, read pin or write pin. */
	ASSERT_EQ(1, mdev_pin(self, IOVA + 10 * PG, 1, PROT_R, 0));
	ASSERT_EQ(0, mdev_unpin(self->device, IOVA + 10 * PG));
	ASSERT_EQ(3, mdev_pin(self, IOVA + 20 * PG, 3, PROT_R | PROT_W, 0));
	/* A pin call failing at its third page (IOVA + 64 * PG unmapped). */
	ASSERT_EQ(-EINVAL, mdev_pin(self, IOVA + 62 * PG, 3, PROT_R, 0));
	/* dma_rw: a write across two pages marks both, a read nothing. */
	ASSERT_EQ(0, mdev_rw(self->device, IOVA + 30 * PG - 4, &val, 8,
			     true));
	ASSERT_EQ(0, mdev_rw(self->device, IOVA + 40 * PG, &val, 8, false));
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 64, bm, 1));
	expect_bits(_metadata, bm, 1,
		    (const int[]){ 2, 3, 10, 20, 21, 22, 29, 30, 62, 63, -1 });
	/* Read again: only what is still pinned. */
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 64, bm, 1));
	expect_bits(_metadata, bm, 1, (const int[]){ 2, 3, 20, 21, 22, -1 });

	/* A range over both mappings and the hole between them. */
	ASSERT_EQ(1, mdev_pin(self, IOVA + 129 * PG, 1, PROT_R, 0));
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 144, bm, 3));
	expect_bits(_metadata, bm, 3,
		    (const int[]){ 2, 3, 20, 21, 22, 129, -1 });
	/* The second mapping alone: bit 0 is its first page. */
	ASSERT_EQ(0, dirty_get(self->container, IOVA + 128 * PG, 16, bm, 1));
	expect_bits(_metadata, bm, 1, (const int[]){ 1, -1 });
	/* A range of nothing mapped: nothing. */
	ASSERT_EQ(0, dirty_get(self->container, IOVA + 64 * PG, 64, bm, 1));
	expect_bits(_metadata, bm, 1, none);

	/* An unmap with the bitmap reports the pins it makes the device drop. */
	ASSERT_EQ(2, mdev_pin(self, IOVA + 140 * PG, 2, PROT_R, 0));
	ASSERT_EQ(16 * PG, unmap_dirty(self->container, IOVA + 128 * PG, 16,
				       bm, 1));
	expect_bits(_metadata, bm, 1, (const int[]){ 1, 12, 13, -1 });
	/* Mapped again: the new mapping starts clean. */
	ASSERT_EQ(0, vfio_map(self->container, self->buf + 64 * PG / 8,
			      IOVA + 128 * PG, 16 * PG, RW));
	ASSERT_EQ(0, dirty_get(self->container, IOVA + 128 * PG, 16, bm, 1));
	expect_bits(_metadata, bm, 1, none);

	/* Stop and start: what is pinned then, nothing older. */
	ASSERT_EQ(0, mdev_rw(self->device, IOVA + 5 * PG, &val, 8, true));
	ASSERT_EQ(0, dirty_flag(self->container,
				VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
	ASSERT_EQ(-EINVAL, dirty_get(self->container, IOVA, 64, bm, 1));
	ASSERT_EQ(0, mdev_unpin(self->device, IOVA + 2 * PG));
	ASSERT_EQ(1, mdev_pin(self, IOVA + 7 * PG, 1, PROT_R, 0));
	ASSERT_EQ(0, mdev_rw(self->device, IOVA + 8 * PG, &val, 8, true));
	ASSERT_EQ(0, dirty_flag(self->container,
				VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 64, bm, 1));
	expect_bits(_metadata, bm, 1, (const int[]){ 7, 20, 21, 22, -1 });
	ASSERT_EQ(0, dirty_flag(self->container,
				VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
}

/*
 * What happens to the words of the user's bitmap, the same against type1
 * and ours. type1 copies each mapping's bitmap out whole words at a time;
 * the first word of a mapping that starts inside a word is ORed with what
 * the user had there, the others are overwritten, with 0 after the
 * mapping's end; words no mapping touches stay. (type1 also keeps the
 * bits it ORed in and shows them at later reads of such a mapping, a bug
 * ours does not copy: so only the last read here gets a bitmap that is
 * not zeroed.) A page pinned at one read and unpinned before the next is
 * reported by the next: type1 keeps its bit until read.
 */
TEST_F(mdev, dirty_words_are_written_as_type1_writes_them)
{
	const __u64 pat = 0xa5a5a5a5a5a5a5a5ULL;
	struct {
		struct vfio_iommu_type1_dma_unmap unmap;
		struct vfio_bitmap bitmap;
	} arg = {
		.unmap = {
			.argsz = sizeof(arg),
			.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
			.iova = IOVA + 64 * PG,
			.size = 64 * PG,
		},
	};
	__u64 bm[6];
	unsigned int i;

	ASSERT_EQ(0, open_device(_metadata, self, VFIO_TYPE1v2_IOMMU));
	/* Bits 4-11, 70-89 and 192-261 of a bitmap starting at IOVA. */
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA + 4 * PG,
			      8 * PG, RW));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA + 70 * PG,
			      20 * PG, RW));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA + 192 * PG,
			      70 * PG, RW));
	ASSERT_EQ(1, mdev_pin(self, IOVA + 5 * PG, 1, PROT_R, 0));
	ASSERT_EQ(1, mdev_pin(self, IOVA + 72 * PG, 1, PROT_R, 0));
	ASSERT_EQ(0, dirty_flag(self->container,
				VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 384, bm, 6));
	expect_bits(_metadata, bm, 6, (const int[]){ 5, 72, -1 });

	/* Pinned at that read, unpinned since: reported once more. */
	ASSERT_EQ(0, mdev_unpin(self->device, IOVA + 5 * PG));
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 384, bm, 6));
	expect_bits(_metadata, bm, 6, (const int[]){ 5, 72, -1 });
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 384, bm, 6));
	expect_bits(_metadata, bm, 6, (const int[]){ 72, -1 });

	/* The unmap of the middle mapping, starting at bit 6 of a word. */
	bm[0] = pat;
	arg.bitmap = (struct vfio_bitmap){ .pgsize = PG, .size = 8,
					   .data = bm };
	ASSERT_EQ(0, ioctl(self->container, VFIO_IOMMU_UNMAP_DMA, &arg));
	ASSERT_EQ(20 * PG, arg.unmap.size);
	EXPECT_EQ(pat | 1ULL << 8, bm[0]);

	/* A read into a patterned bitmap, one page dirty in each mapping. */
	ASSERT_EQ(1, mdev_pin(self, IOVA + 6 * PG, 1, PROT_R, 0));
	ASSERT_EQ(1, mdev_pin(self, IOVA + 200 * PG, 1, PROT_R, 0));
	for (i = 0; i < 6; i++)
		bm[i] = pat;
	ASSERT_EQ(0, dirty_get_over(self->container, IOVA, 384, bm, 6));
	/* ORed: the first mapping starts at bit 4. */
	EXPECT_EQ(pat | 1ULL << 6, bm[0]);
	/* No mapping there (any more). */
	EXPECT_EQ(pat, bm[1]);
	EXPECT_EQ(pat, bm[2]);
	/* Overwritten: the last mapping starts word-aligned, ends at 5. */
	EXPECT_EQ(1ULL << 8, bm[3]);
	EXPECT_EQ(0, bm[4]);
	EXPECT_EQ(pat, bm[5]);
	ASSERT_EQ(0, dirty_flag(self->container,
				VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
}

/*
 * With a real group (edu's, IOMMUFD_VFIO_GROUP) in the container, whose
 * device may write anywhere unseen, every mapped page is dirty at every
 * read. When it leaves, every mapping it had is reported whole once more,
 * each by the first read that covers it, then the emulated group's pins;
 * a mapping made after it left starts clean. Bit for bit as type1.
 */
TEST_F(mdev, dirty_with_real_group)
{
	const char *path = getenv("IOMMUFD_VFIO_GROUP");
	const int all[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
			    15, -1 };
	__u64 bm[1];
	int edu;

	if (!path)
		SKIP(return, "no real VFIO group (IOMMUFD_VFIO_GROUP unset)");
	edu = open(path, O_RDWR);
	ASSERT_LE(0, edu);
	ASSERT_EQ(0, ioctl(edu, VFIO_GROUP_SET_CONTAINER, &self->container));
	ASSERT_EQ(0, open_device(_metadata, self, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA, 16 * PG, RW));
	ASSERT_EQ(1, mdev_pin(self, IOVA + 3 * PG, 1, PROT_R, 0));
	ASSERT_EQ(0, dirty_flag(self->container,
				VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 16, bm, 1));
	expect_bits(_metadata, bm, 1, all);
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 16, bm, 1));
	expect_bits(_metadata, bm, 1, all);

	/* The real group leaves while tracking: what it wrote is dirty. */
	ASSERT_EQ(0, vfio_map(self->container, self->buf + 16 * PG,
			      IOVA + 64 * PG, 16 * PG, RW));
	ASSERT_EQ(0, close(edu));
	ASSERT_EQ(0, vfio_map(self->container, self->buf + 32 * PG,
			      IOVA + 128 * PG, 16 * PG, RW));
	/* Mapped after: clean. */
	ASSERT_EQ(0, dirty_get(self->container, IOVA + 128 * PG, 16, bm, 1));
	expect_bits(_metadata, bm, 1, (const int[]){ -1 });
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 16, bm, 1));
	expect_bits(_metadata, bm, 1, all);
	/* Once per mapping: the first is back to the pins ... */
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 16, bm, 1));
	expect_bits(_metadata, bm, 1, (const int[]){ 3, -1 });
	/* ... the second, not read yet, is reported whole by its unmap. */
	ASSERT_EQ(16 * PG, unmap_dirty(self->container, IOVA + 64 * PG, 16,
				       bm, 1));
	expect_bits(_metadata, bm, 1, all);
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 16, bm, 1));
	expect_bits(_metadata, bm, 1, (const int[]){ 3, -1 });
	ASSERT_EQ(0, dirty_flag(self->container,
				VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
	ASSERT_EQ(0, dirty_flag(self->container,
				VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 16, bm, 1));
	expect_bits(_metadata, bm, 1, (const int[]){ 3, -1 });
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 16, bm, 1));
	expect_bits(_metadata, bm, 1, (const int[]){ 3, -1 });
}

/*
 * Ours only: a mock domain that tracks (made through a /dev/iommu fd
 * linked to the container, on its IOAS) next to the emulated group. The
 * container reports what the mock domain saw written and, beside it,
 * what the emulated device pinned or wrote through dma_rw.
 */
TEST_F(mdev, dirty_pins_next_to_tracking_domain)
{
	struct iommu_vfio_link link = { .size = sizeof(link) };
	__u64 bm[1], one = 1, val = 3;
	__u32 hwpt_id;
	int iommufd;

	if (!ours_serves())
		SKIP(return, "IOMMU_VFIO_LINK is ours");
	ASSERT_EQ(0, open_device(_metadata, self, VFIO_TYPE1v2_IOMMU));
	iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, iommufd);
	if (!iommufd_is_test_build(iommufd)) {
		close(iommufd);
		SKIP(return, "needs a test build");
	}
	link.container_fd = self->container;
	ASSERT_EQ(0, ioctl(iommufd, IOMMU_VFIO_LINK, &link));
	ASSERT_EQ(0, tcmd_mock_domain(iommufd, link.out_ioas_id, NULL,
				      &hwpt_id, NULL));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA, 64 * PG, RW));
	ASSERT_EQ(2, mdev_pin(self, IOVA + 2 * PG, 2, PROT_R | PROT_W, 0));
	ASSERT_EQ(0, dirty_flag(self->container,
				VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 64, bm, 1));
	expect_bits(_metadata, bm, 1, (const int[]){ 2, 3, -1 });

	ASSERT_EQ(1, mdev_pin(self, IOVA + 10 * PG, 1, PROT_R | PROT_W, 0));
	ASSERT_EQ(0, mdev_unpin(self->device, IOVA + 10 * PG));
	ASSERT_EQ(0, mdev_rw(self->device, IOVA + 20 * PG, &val, 8, true));
	/* The mock device wrote page 30. */
	ASSERT_EQ(0, tcmd(iommufd, IOMMU_TEST_OP_DIRTY, hwpt_id,
			  &(struct iommu_test_cmd){ .dirty = {
				.iova = IOVA + 30 * PG,
				.length = PG,
				.page_size = PG,
				.uptr = (__u64)(uintptr_t)&one,
			} }));
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 64, bm, 1));
	expect_bits(_metadata, bm, 1, (const int[]){ 2, 3, 10, 20, 30, -1 });
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 64, bm, 1));
	expect_bits(_metadata, bm, 1, (const int[]){ 2, 3, -1 });
	/* Pinned at the last read: reported once more after the unpin. */
	ASSERT_EQ(0, mdev_unpin(self->device, IOVA + 2 * PG));
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 64, bm, 1));
	expect_bits(_metadata, bm, 1, (const int[]){ 2, 3, -1 });
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 64, bm, 1));
	expect_bits(_metadata, bm, 1, (const int[]){ -1 });
	ASSERT_EQ(0, dirty_flag(self->container,
				VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
	close(iommufd);
}

/*
 * Ours only (IOMMU_VFIO_LINK): an unmap through a linked /dev/iommu fd
 * takes the container's marks of the range along, as the container's own
 * unmap does, so a new mapping there starts clean; marks outside stay.
 */
TEST_F(mdev, dirty_marks_go_with_an_unmap_through_a_linked_fd)
{
	struct iommu_vfio_link link = { .size = sizeof(link) };
	__u64 bm[1], val = 5, unmapped = 0;
	int iommufd;

	if (!ours_serves())
		SKIP(return, "IOMMU_VFIO_LINK is ours");
	ASSERT_EQ(0, open_device(_metadata, self, VFIO_TYPE1v2_IOMMU));
	iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, iommufd);
	link.container_fd = self->container;
	ASSERT_EQ(0, ioctl(iommufd, IOMMU_VFIO_LINK, &link));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA, 16 * PG, RW));
	ASSERT_EQ(0, vfio_map(self->container, self->buf + 16 * PG,
			      IOVA + 16 * PG, 16 * PG, RW));
	ASSERT_EQ(0, dirty_flag(self->container,
				VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	/* Written through dma_rw, pinned and unpinned: both marked. */
	ASSERT_EQ(0, mdev_rw(self->device, IOVA + 2 * PG, &val, 8, true));
	ASSERT_EQ(1, mdev_pin(self, IOVA + 5 * PG, 1, PROT_R, 0));
	ASSERT_EQ(0, mdev_unpin(self->device, IOVA + 5 * PG));
	ASSERT_EQ(0, mdev_rw(self->device, IOVA + 20 * PG, &val, 8, true));
	ASSERT_EQ(0, ioas_unmap(iommufd, link.out_ioas_id, IOVA, 16 * PG,
				&unmapped));
	ASSERT_EQ(16 * PG, unmapped);
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA, 16 * PG, RW));
	ASSERT_EQ(0, dirty_get(self->container, IOVA, 32, bm, 1));
	expect_bits(_metadata, bm, 1, (const int[]){ 20, -1 });
	ASSERT_EQ(0, dirty_flag(self->container,
				VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
	close(iommufd);
}

/*
 * Through a /dev/iommu fd linked to the container (IOMMU_VFIO_LINK, ours
 * only): a map made there is what the emulated device pins, and an unmap
 * made there calls its dma_unmap first, as the container's own does.
 */
TEST_F(mdev, linked_fd_maps_and_unmaps)
{
	struct iommu_vfio_link link = { .size = sizeof(link) };
	__u64 unmapped = 0;
	int iommufd;

	if (!ours_serves())
		SKIP(return, "IOMMU_VFIO_LINK is ours");
	ASSERT_EQ(0, open_device(_metadata, self, VFIO_TYPE1v2_IOMMU));
	iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, iommufd);
	link.container_fd = self->container;
	ASSERT_EQ(0, ioctl(iommufd, IOMMU_VFIO_LINK, &link));
	ASSERT_EQ(0, ioas_map_fixed(iommufd, link.out_ioas_id, self->buf,
				    8 * PG, IOVA));
	ASSERT_EQ(3, mdev_pin(self, IOVA + 4 * PG, 3, PROT_R, 0));
	ASSERT_EQ(MAGIC + 6, self->out[2]);
	ASSERT_EQ(0, ioas_unmap(iommufd, link.out_ioas_id, IOVA, 8 * PG,
				&unmapped));
	ASSERT_EQ(8 * PG, unmapped);
	ASSERT_LE(1, mdev_status(self->device).unmap_calls);
	ASSERT_EQ(0, mdev_status(self->device).npinned);
	/* The container sees it gone too. */
	ASSERT_EQ(-EINVAL, mdev_pin(self, IOVA, 1, PROT_R, 0));
	close(iommufd);
}

#define FAIL_NTH_MAX 2000

/*
 * Fail-nth through pin_pages and dma_rw (ours only: the test core's
 * /dev/iommu arms the Nth fault event of this task: allocation, pin,
 * user copy). Each failure returns an errno and leaves no page pinned
 * and nothing charged; the call then succeeds.
 */
TEST_F_TIMEOUT(mdev, fail_nth_pin_and_rw, 300)
{
	unsigned long len = 8 * PG;
	__u64 val[4];
	int iommufd, n, fired;
	long rc;

	if (!ours_serves())
		SKIP(return, "fault points are our module's");
	iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, iommufd);
	ASSERT_EQ(0, open_device(_metadata, self, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA, len, RW));
	for (n = 1; n != FAIL_NTH_MAX; n++) {
		ASSERT_EQ(0, fail_nth_arm(iommufd, n, MOCK_FAULT_ALL));
		rc = mdev_pin(self, IOVA, 8, PROT_R | PROT_W, 0);
		ASSERT_EQ(0, fail_nth_disarm(iommufd, &fired));
		if (rc == 8) {
			ASSERT_EQ(MAGIC + 7, self->out[7]);
			ASSERT_EQ(0, mdev_unpin(self->device, IOVA));
			if (!fired)
				break;
			continue;
		}
		ASSERT_TRUE(fired) TH_LOG("n=%d: rc %ld without a fault", n, rc);
		ASSERT_GT(0, rc);
		ASSERT_EQ(0, mdev_status(self->device).npinned);
		ASSERT_EQ(0, tcmd_check_refs(iommufd, self->buf, len, 0));
		ASSERT_EQ(self->pinned0, pinned_kb());
	}
	ASSERT_NE(FAIL_NTH_MAX, n);
	TH_LOG("pin_pages succeeded at n=%d", n);
	ASSERT_EQ(0, tcmd_check_refs(iommufd, self->buf, len, 0));

	for (n = 1; n != FAIL_NTH_MAX; n++) {
		memset(val, 0, sizeof(val));
		ASSERT_EQ(0, fail_nth_arm(iommufd, n, MOCK_FAULT_ALL));
		rc = mdev_rw(self->device, IOVA + PG - 16, val, sizeof(val),
			     false);
		ASSERT_EQ(0, fail_nth_disarm(iommufd, &fired));
		if (!rc) {
			ASSERT_EQ(MAGIC + 1, val[2]);
			if (!fired)
				break;
			continue;
		}
		ASSERT_TRUE(fired) TH_LOG("n=%d: rc %ld without a fault", n, rc);
		ASSERT_GT(0, rc);
		ASSERT_EQ(0, tcmd_check_refs(iommufd, self->buf, len, 0));
	}
	ASSERT_NE(FAIL_NTH_MAX, n);
	TH_LOG("dma_rw succeeded at n=%d", n);
	ASSERT_EQ(self->pinned0, pinned_kb());
	close(iommufd);
}

/* Pins held, the three fds closed in each order: all is given back. */
static void close_in_order(struct __test_metadata *_metadata,
			   mdev_data_t *self, const char *order)
{
	ASSERT_EQ(0, open_device(_metadata, self, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_map(self->container, self->buf, IOVA, 32 * PG, RW));
	ASSERT_EQ(32, mdev_pin(self, IOVA, 32, PROT_R | PROT_W, 0));
	ASSERT_LE(self->pinned0 + 32 * PG / 1024, pinned_kb());
	for (; *order; order++) {
		int *fd = *order == 'd' ? &self->device :
			  *order == 'g' ? &self->group : &self->container;

		ASSERT_EQ(0, close(*fd));
		*fd = -1;
	}
	ASSERT_EQ(self->pinned0, pinned_kb());
}

TEST_F(mdev, close_device_group_container)
{
	close_in_order(_metadata, self, "dgc");
}

TEST_F(mdev, close_container_group_device)
{
	close_in_order(_metadata, self, "cgd");
}

TEST_F(mdev, close_group_container_device)
{
	close_in_order(_metadata, self, "gcd");
}

TEST_F(mdev, close_container_device_group)
{
	close_in_order(_metadata, self, "cdg");
}

TEST_HARNESS_MAIN
