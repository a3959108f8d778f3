// SPDX-License-Identifier: GPL-2.0
/*
 * The fd, the object table and the command dispatcher: contexts, DESTROY,
 * the size rules every command follows, unknown commands and flags.
 */
#define _GNU_SOURCE /* memmem() */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "iommufd_hold.h"
#include "iommufd_utils.h"

FIXTURE(ctx)
{
	int fd;
};

FIXTURE_SETUP(ctx)
{
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(ctx)
{
	close(self->fd);
}

TEST(open_gives_independent_contexts)
{
	__u32 id_a, id_b;
	int a, b;

	a = iommufd_open();
	b = iommufd_open();
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, ioas_alloc(a, &id_a));
	ASSERT_EQ(0, ioas_alloc(b, &id_b));
	/* IDs are per context: both start from the same first ID. */
	ASSERT_EQ(id_a, id_b);
	ASSERT_EQ(0, iommufd_destroy(a, id_a));
	/* Destroying in one context leaves the other's object alone. */
	ASSERT_EQ(0, iommufd_destroy(b, id_b));
	close(a);
	close(b);
}

TEST(many_contexts_with_objects_close_cleanly)
{
	enum { NR_CTX = 64, NR_IOAS = 16 };
	int fds[NR_CTX];
	__u32 id;
	int i, j;

	for (i = 0; i < NR_CTX; i++) {
		fds[i] = iommufd_open();
		ASSERT_LE(0, fds[i]);
		for (j = 0; j < NR_IOAS; j++)
			ASSERT_EQ(0, ioas_alloc(fds[i], &id));
	}
	/* Closing with live objects must free them all (no leak WARN). */
	for (i = 0; i < NR_CTX; i++)
		ASSERT_EQ(0, close(fds[i]));
}

/* Map @n one-page buffers one by one, then unmap them one by one. */
static int burst_of_page_maps(int fd, char *buf, unsigned int n)
{
	const __u64 iova = 0x40000000UL;
	__u64 unmapped;
	unsigned int i;
	__u32 ioas_id;
	int rc;

	rc = ioas_alloc(fd, &ioas_id);
	for (i = 0; !rc && i != n; i++)
		rc = ioas_map_fixed(fd, ioas_id, buf + i * 4096, 4096,
				    iova + i * 4096ULL);
	for (i = 0; !rc && i != n; i++)
		rc = ioas_unmap(fd, ioas_id, iova + i * 4096ULL, 4096,
				&unmapped);
	return rc;
}

/* Is @name a function of the running kernel (root reads /proc/kallsyms)? */
static bool kernel_has_symbol(const char *name)
{
	char line[256], sym[200];
	bool found = false;
	FILE *f;

	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%*s %*s %199s", sym) == 1 &&
			!strcmp(sym, name);
	fclose(f);
	return found;
}

/*
 * A context keeps the pages objects of one-page maps it freed, for its
 * next maps (struct iopt_pages_cache in the module). Closing it must give
 * them all back to the slab: a burst of unmaps fills the cache, and a
 * leak at close would show in Slab at 64 KiB per context.
 */
TEST(closing_contexts_frees_what_their_map_caches_hold)
{
	enum { NR_CTX = 100, NR_MAPS = 300 };
	long before, after;
	char *buf;
	int i, fd;

	/*
	 * KASAN's quarantine holds freed objects in Slab for a while, so
	 * Slab proves nothing there (the cache itself runs under KASAN).
	 */
	if (kernel_has_symbol("__kasan_kmalloc"))
		SKIP(return, "KASAN kernel: its quarantine fills Slab");

	buf = mmap(NULL, NR_MAPS * 4096UL, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	/* One round first, for whatever is allocated once. */
	fd = iommufd_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, burst_of_page_maps(fd, buf, NR_MAPS));
	ASSERT_EQ(0, close(fd));
	before = file_field_kb("/proc/meminfo", "Slab");
	ASSERT_LT(0, before);
	for (i = 0; i != NR_CTX; i++) {
		fd = iommufd_open();
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, burst_of_page_maps(fd, buf, NR_MAPS));
		ASSERT_EQ(0, close(fd));
	}
	after = file_field_kb("/proc/meminfo", "Slab");
	/* A leak would be 100 contexts * 256 objects * 256 bytes: 6.4 MiB. */
	ASSERT_GT(2048, after - before)
		TH_LOG("Slab grew from %ld to %ld kB", before, after);
	munmap(buf, NR_MAPS * 4096UL);
}

TEST(contexts_survive_fork_and_close_in_child)
{
	__u32 id;
	int status;
	pid_t pid;
	int fd;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioas_alloc(fd, &id));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* The child shares the context; its close is not the last. */
		close(fd);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, iommufd_destroy(fd, id));
	close(fd);
}

TEST_F(ctx, ioas_ids_are_unique_and_reused_after_destroy)
{
	__u32 a, b, c;

	ASSERT_EQ(0, ioas_alloc(self->fd, &a));
	ASSERT_EQ(0, ioas_alloc(self->fd, &b));
	ASSERT_NE(a, b);
	ASSERT_NE(0, a);
	ASSERT_NE(0, b);
	ASSERT_EQ(0, iommufd_destroy(self->fd, a));
	ASSERT_EQ(0, ioas_alloc(self->fd, &c));
	ASSERT_NE(b, c);
	/* The lowest free ID is handed out again. */
	ASSERT_EQ(a, c);
}

TEST_F(ctx, destroy_of_unknown_id_fails_enoent)
{
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, 0));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, 1));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, ~0U));
}

TEST_F(ctx, destroy_twice_fails_enoent)
{
	__u32 id;

	ASSERT_EQ(0, ioas_alloc(self->fd, &id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, id));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, id));
}

TEST_F(ctx, destroy_of_another_contexts_id_fails_enoent)
{
	__u32 mine, theirs;
	int other;

	other = iommufd_open();
	ASSERT_LE(0, other);
	ASSERT_EQ(0, ioas_alloc(other, &theirs));
	ASSERT_EQ(0, ioas_alloc(self->fd, &mine));
	ASSERT_EQ(0, iommufd_destroy(self->fd, mine));
	/* The same number names nothing on this fd now. */
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, theirs));
	ASSERT_EQ(0, iommufd_destroy(other, theirs));
	close(other);
}

TEST_F(ctx, destroy_of_busy_ioas_fails_ebusy)
{
	struct iommu_test_cmd access = {
		.size = sizeof(access),
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
	};
	__u32 id;

	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	ASSERT_EQ(0, ioas_alloc(self->fd, &id));
	access.id = id;
	ASSERT_EQ(0, iommufd_ioctl(self->fd, IOMMU_TEST_CMD, &access));
	/* The access depends on the IOAS, so the IOAS cannot go. */
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, id));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, id));
	ASSERT_EQ(0, close(access.create_access.out_access_fd));
	ASSERT_EQ(0, iommufd_destroy(self->fd, id));
}

/*
 * A DESTROY waits for the commands already using its object, and the
 * object stays visible meanwhile: commands issued during the wait find
 * it, and one that makes something depend on it (a mock domain) turns
 * the DESTROY into EBUSY, as if it came after. The command in flight is
 * an ALLOW_IOVAS whose ranges sit on a page userfaultfd holds back.
 */
static int held_allow_iovas(struct held_cmd *c)
{
	return ioas_allow_iovas(c->fd, c->id, c->ptr, 1);
}

static int held_destroy(struct held_cmd *c)
{
	return iommufd_destroy(c->fd, c->id);
}

TEST(destroy_waiting_for_a_command_leaves_the_object_visible)
{
	struct iommu_iova_range range = { .start = 0x40000000,
					.last = 0x4fffffff };
	struct held_cmd allow = { .run = held_allow_iovas };
	struct held_cmd destroy = { .run = held_destroy };
	pthread_t allow_thread, destroy_thread;
	__u32 ioas_id, stdev_id, hwpt_id = 0;
	struct uffd_hold hold = {};
	bool test_build;
	long vm_pin;
	int fd, rc;
	void *buf;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	test_build = iommufd_is_test_build(fd);
	rc = uffd_hold_init(&hold);
	if (rc)
		SKIP(return, "no userfaultfd: %s", strerror(-rc));
	buf = buf_alloc_written(HOLD_PAGE, 3);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, ioas_alloc(fd, &ioas_id));
	vm_pin = proc_status_kb("VmPin");

	allow.fd = fd;
	allow.id = ioas_id;
	allow.ptr = hold.page;
	ASSERT_EQ(0, pthread_create(&allow_thread, NULL, held_cmd_thread,
				    &allow));
	ASSERT_TRUE(uffd_hold_wait_fault(&hold, &allow.done));

	destroy.fd = fd;
	destroy.id = ioas_id;
	ASSERT_EQ(0, pthread_create(&destroy_thread, NULL, held_cmd_thread,
				    &destroy));
	usleep(300 * 1000);
	/* It waits for the ALLOW_IOVAS, which holds the IOAS. */
	ASSERT_FALSE(held_cmd_done(&destroy));

	/* Meanwhile the IOAS is still there for everyone else. */
	ASSERT_EQ(0, ioas_map_fixed(fd, ioas_id, buf, HOLD_PAGE, 0x40000000));
	if (test_build)
		ASSERT_EQ(0, tcmd_mock_domain(fd, ioas_id, &stdev_id, &hwpt_id,
					      NULL));
	/*
	 * A plain MAP leaves the DESTROY waiting; the mock domain depends on
	 * the IOAS, and the DESTROY may see that and end in EBUSY at once.
	 */
	if (!test_build)
		ASSERT_FALSE(held_cmd_done(&destroy));

	ASSERT_EQ(0, uffd_hold_release(&hold, &range, sizeof(range)));
	ASSERT_EQ(0, pthread_join(allow_thread, NULL));
	ASSERT_EQ(0, allow.rc);
	ASSERT_EQ(0, pthread_join(destroy_thread, NULL));
	if (test_build) {
		/* The mock domain made during the wait depends on it. */
		ASSERT_EQ(-EBUSY, destroy.rc);
		ASSERT_EQ(0, tcmd_check_map(fd, hwpt_id, 0x40000000, buf,
					    HOLD_PAGE));
	} else {
		ASSERT_EQ(0, destroy.rc);
		ASSERT_EQ(-ENOENT, ioas_map_fixed(fd, ioas_id, buf, HOLD_PAGE,
						  0x40001000));
	}
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(vm_pin, proc_status_kb("VmPin"));
	uffd_hold_fini(&hold);
	munmap(buf, HOLD_PAGE);
}

TEST_F(ctx, access_keeps_its_context_alive_after_close)
{
	struct iommu_test_cmd access = {
		.size = sizeof(access),
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
	};

	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	ASSERT_EQ(0, ioas_alloc(self->fd, &access.id));
	ASSERT_EQ(0, iommufd_ioctl(self->fd, IOMMU_TEST_CMD, &access));
	/* Closing /dev/iommu first must not free what the access uses. */
	ASSERT_EQ(0, close(self->fd));
	ASSERT_EQ(0, close(access.create_access.out_access_fd));
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
}

TEST_F(ctx, create_access_on_missing_or_wrong_id_fails_enoent)
{
	struct iommu_test_cmd access = {
		.size = sizeof(access),
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = 12345,
	};

	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	ASSERT_EQ(-ENOENT, iommufd_ioctl(self->fd, IOMMU_TEST_CMD, &access));
}

TEST_F(ctx, size_below_minimum_fails_einval)
{
	struct iommu_ioas_alloc cmd = {};
	__u32 id;

	/* One byte short of the last field of the first version. */
	cmd.size = offsetof(struct iommu_ioas_alloc, out_ioas_id) + 3;
	ASSERT_EQ(-EINVAL, iommufd_ioctl(self->fd, IOMMU_IOAS_ALLOC, &cmd));
	cmd.size = 0;
	ASSERT_EQ(-EINVAL, iommufd_ioctl(self->fd, IOMMU_IOAS_ALLOC, &cmd));
	/* Nothing was created: the first ID is still free. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &id));
	ASSERT_EQ(1, id);
}

TEST_F(ctx, size_longer_with_zero_tail_is_accepted)
{
	struct {
		struct iommu_ioas_alloc cmd;
		__u64 tail[4];
	} big = { .cmd.size = sizeof(big) };

	ASSERT_EQ(0, iommufd_ioctl(self->fd, IOMMU_IOAS_ALLOC, &big));
	ASSERT_NE(0, big.cmd.out_ioas_id);
	/* The module writes back only the struct it knows. */
	ASSERT_EQ(0, big.tail[0]);
	ASSERT_EQ(0, iommufd_destroy(self->fd, big.cmd.out_ioas_id));
}

TEST_F(ctx, size_longer_with_nonzero_tail_fails_e2big)
{
	struct {
		struct iommu_ioas_alloc cmd;
		__u64 tail[4];
	} big = { .cmd.size = sizeof(big) };
	__u32 id;

	big.tail[3] = 1;
	ASSERT_EQ(-E2BIG, iommufd_ioctl(self->fd, IOMMU_IOAS_ALLOC, &big));
	ASSERT_EQ(0, ioas_alloc(self->fd, &id));
	ASSERT_EQ(1, id);
}

TEST_F(ctx, short_destroy_struct_fails_einval)
{
	struct iommu_destroy cmd = { .size = 4, .id = 1 };

	ASSERT_EQ(-EINVAL, iommufd_ioctl(self->fd, IOMMU_DESTROY, &cmd));
}

TEST_F(ctx, bad_pointer_fails_efault)
{
	ASSERT_EQ(-EFAULT, iommufd_ioctl(self->fd, IOMMU_IOAS_ALLOC, NULL));
	ASSERT_EQ(-EFAULT, iommufd_ioctl(self->fd, IOMMU_DESTROY,
					 (void *)16));
}

TEST_F(ctx, unknown_command_fails_enotty)
{
	__u32 buf[16] = { sizeof(buf) };

	/* Past the last command upstream defines. */
	ASSERT_EQ(-ENOTTY, iommufd_ioctl(self->fd, _IO(IOMMUFD_TYPE, 0xbf),
					 buf));
	/* Below the command base. */
	ASSERT_EQ(-ENOTTY, iommufd_ioctl(self->fd, _IO(IOMMUFD_TYPE, 0x10),
					 buf));
	/* Right number, wrong type. */
	ASSERT_EQ(-ENOTTY, iommufd_ioctl(self->fd, _IO('x', IOMMUFD_CMD_BASE),
					 buf));
	/* Right number, with direction bits upstream never uses. */
	ASSERT_EQ(-ENOTTY, iommufd_ioctl(self->fd,
					 _IOWR(IOMMUFD_TYPE, IOMMUFD_CMD_BASE,
					       __u32[2]), buf));
}

TEST_F(ctx, unknown_flags_fail_eopnotsupp)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	unsigned int bit;
	__u32 id;

	/* Bit 31 is IOMMU_IOAS_ALLOC_WINDOWED, our extension. */
	for (bit = 0; bit < 32; bit++) {
		cmd.flags = 1U << bit;
		if (cmd.flags == IOMMU_IOAS_ALLOC_WINDOWED)
			continue;
		ASSERT_EQ(-EOPNOTSUPP,
			  iommufd_ioctl(self->fd, IOMMU_IOAS_ALLOC, &cmd));
	}
	ASSERT_EQ(0, ioas_alloc(self->fd, &id));
	ASSERT_EQ(1, id);
}

TEST_F(ctx, reserved_field_nonzero_fails_eopnotsupp)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
	};

	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "needs a test build");
	ASSERT_EQ(0, ioas_alloc(self->fd, &cmd.id));
	cmd.__reserved = 1;
	ASSERT_EQ(-EOPNOTSUPP, iommufd_ioctl(self->fd, IOMMU_TEST_CMD, &cmd));
	/* No access was made: the IOAS is free to go. */
	ASSERT_EQ(0, iommufd_destroy(self->fd, cmd.id));
}

TEST_F(ctx, test_command_matches_build_variant)
{
	struct iommu_test_cmd cmd = { .size = sizeof(cmd), .op = 0xffff };
	int rc = iommufd_ioctl(self->fd, IOMMU_TEST_CMD, &cmd);

	/* A test build knows the command but not the op; a release
	 * build does not know the command at all.
	 */
	ASSERT_EQ(getenv("IOMMUFD_EXPECT_RELEASE") ? -ENOTTY : -EOPNOTSUPP,
		  rc);
}

/* ---------------------------------------------------------------------- */
/*
 * The two builds as files (in the VM, tools/vm/run-vm.sh puts them in
 * /lib/iommufd/<build>/): each is a module of its own name, says in
 * modinfo which build it is, and neither loads while the other holds
 * /dev/iommu.
 */
#define MODULE_DIR "/lib/iommufd"

struct module_build {
	const char *build;
	const char *name;
};

static const struct module_build builds[] = {
	{ "test", "iommufd_oot_test" },
	{ "release", "iommufd_oot" },
};

static void module_path(char *path, size_t len, const struct module_build *b)
{
	snprintf(path, len, MODULE_DIR "/%s/%s.ko", b->build, b->name);
}

/* The whole file at @path into a malloc()ed buffer; *@len is its size. */
static char *read_file(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	buf = fstat(fd, &st) ? NULL : malloc(st.st_size);
	if (buf && read(fd, buf, st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	*len = buf ? st.st_size : 0;
	close(fd);
	return buf;
}

/*
 * Does the module file at @path carry "@key=@value" in its modinfo? The
 * .modinfo section that modinfo(8) prints is a run of NUL-terminated
 * "key=value" strings, so the string between two NULs is enough to find.
 */
static bool modinfo_has(const char *path, const char *key, const char *value)
{
	char want[128];
	bool found;
	size_t len;
	char *file;
	int n;

	n = snprintf(want, sizeof(want), "%c%s=%s%c", 0, key, value, 0);
	file = read_file(path, &len);
	found = file && memmem(file, len, want, n);
	free(file);
	return found;
}

static bool module_loaded(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return !access(path, F_OK);
}

TEST(builds_are_named_apart_and_say_which_they_are)
{
	char path[128];
	unsigned int i;

	if (access(MODULE_DIR, F_OK))
		SKIP(return, "no " MODULE_DIR " (only in the test VM)");
	for (i = 0; i != ARRAY_SIZE(builds); i++) {
		module_path(path, sizeof(path), &builds[i]);
		ASSERT_EQ(0, access(path, R_OK)) TH_LOG("%s", path);
		EXPECT_TRUE(modinfo_has(path, "build", builds[i].build))
			TH_LOG("%s: no build=%s", path, builds[i].build);
		EXPECT_TRUE(modinfo_has(path, "name", builds[i].name))
			TH_LOG("%s: no name=%s", path, builds[i].name);
	}
}

/*
 * The value of @key in the modinfo of the file at @path, copied into
 * @val; false if there is none. Values are the strings after "\0key=".
 */
static bool modinfo_get(const char *path, const char *key, char *val,
			size_t len)
{
	char want[64];
	size_t flen;
	char *file, *p;
	int n;

	n = snprintf(want, sizeof(want), "%c%s=", 0, key);
	file = read_file(path, &flen);
	p = file ? memmem(file, flen, want, n) : NULL;
	if (p)
		snprintf(val, len, "%s", p + n);
	free(file);
	return p;
}

/*
 * What modinfo shows of every module of both builds: the version of the
 * tree (the same in a build's two modules, never "unknown": the Makefile
 * passes it), the build, and the VFIO backend's parameters.
 */
TEST(modinfo_has_version_build_and_parameters)
{
	char path[128], core_ver[128], ver[128];
	unsigned int i;

	if (access(MODULE_DIR, F_OK))
		SKIP(return, "no " MODULE_DIR " (only in the test VM)");
	for (i = 0; i != ARRAY_SIZE(builds); i++) {
		module_path(path, sizeof(path), &builds[i]);
		ASSERT_TRUE(modinfo_get(path, "version", core_ver,
					sizeof(core_ver))) TH_LOG("%s", path);
		EXPECT_NE(0, strlen(core_ver));
		EXPECT_STRNE("unknown", core_ver);
		snprintf(path, sizeof(path), MODULE_DIR "/%s/%s_vfio.ko",
			 builds[i].build, builds[i].name);
		if (access(path, R_OK))
			continue; /* a kernel without VFIO */
		EXPECT_TRUE(modinfo_has(path, "build", builds[i].build))
			TH_LOG("%s", path);
		ASSERT_TRUE(modinfo_get(path, "version", ver, sizeof(ver)))
			TH_LOG("%s", path);
		EXPECT_STREQ(core_ver, ver);
		EXPECT_TRUE(modinfo_get(path, "parm", ver, sizeof(ver)));
		EXPECT_TRUE(modinfo_has(path, "parmtype", "type1:bool"));
		EXPECT_TRUE(modinfo_has(path, "parmtype",
					"allow_unsafe_interrupts:bool"));
	}
}

/*
 * Loading the other build while this one holds /dev/iommu fails cleanly
 * (the loader refuses a second exporter of iommufd_oot_dev_iommu, with a
 * message naming the owner), and this one keeps working.
 */
TEST(the_other_build_refuses_to_load_beside_this_one)
{
	const struct module_build *self_b, *other;
	bool release = getenv("IOMMUFD_EXPECT_RELEASE");
	__u32 ioas_id;
	char path[128];
	int fd, mod_fd, rc;

	if (access(MODULE_DIR, F_OK))
		SKIP(return, "no " MODULE_DIR " (only in the test VM)");
	self_b = &builds[release ? 1 : 0];
	other = &builds[release ? 0 : 1];
	ASSERT_TRUE(module_loaded(self_b->name)) TH_LOG("%s", self_b->name);
	ASSERT_FALSE(module_loaded(other->name)) TH_LOG("%s", other->name);

	module_path(path, sizeof(path), other);
	mod_fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, mod_fd) TH_LOG("%s", path);
	rc = syscall(SYS_finit_module, mod_fd, "", 0);
	if (!rc) {
		/* Put things back before failing. */
		syscall(SYS_delete_module, other->name, O_NONBLOCK);
	}
	ASSERT_EQ(-1, rc);
	EXPECT_EQ(ENOEXEC, errno);
	close(mod_fd);
	ASSERT_FALSE(module_loaded(other->name));

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioas_alloc(fd, &ioas_id));
	ASSERT_EQ(!release, iommufd_is_test_build(fd));
	close(fd);
}

/* ---------------------------------------------------------------------- */
/*
 * Next to the kernel's own iommufd. Neither Debian kernel builds it, so
 * run-vm.sh brings stand-ins built from tools/vm/intree_iommufd.c:
 * iommufd.ko exports iommufd_ctx_get and registers /dev/iommu as the
 * in-tree module does; iommu_holder.ko only registers /dev/iommu (a
 * built-in iommufd, or any other driver of that name). They prove that
 * ours and such modules refuse each other cleanly, with a message and
 * no stack dump (the runner fails the run on one), and nothing more.
 */
#define STANDIN_DIR MODULE_DIR "/standin"

static const struct module_build *this_build(void)
{
	return &builds[getenv("IOMMUFD_EXPECT_RELEASE") ? 1 : 0];
}

static int load_module_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -errno;
	rc = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return rc;
}

/*
 * Unload @name, waiting up to 30 s while it is in use: an io_uring ring
 * of an earlier test (the uring variant) may end in a kernel worker a
 * moment after that test, holding /dev/iommu until then.
 */
static int unload_module(const char *name)
{
	for (int try = 0; try != 300; try++) {
		if (!syscall(SYS_delete_module, name, O_NONBLOCK))
			return 0;
		if (errno != EWOULDBLOCK)
			break;
		usleep(100 * 1000);
	}
	return -errno;
}

static int load_build(const struct module_build *b)
{
	char path[128];

	module_path(path, sizeof(path), b);
	return load_module_file(path);
}

/*
 * The kernel log from now on: /dev/kmsg opened at its end. kmsg_has()
 * reads the records written since and looks for @what in them.
 */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

static bool kmsg_has(int fd, const char *what)
{
	char rec[2048];
	bool found = false;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue; /* records overwritten: read on */
		if (n <= 0)
			break;
		rec[n] = 0;
		if (strstr(rec, what))
			found = true;
	}
	return found;
}

/*
 * Our module of this build works: a context, an IOAS, the right build.
 * Through ioctl() whatever the variant: a ring would hold the module a
 * moment after close, when the next step unloads it.
 */
static bool ours_works(void)
{
	struct iommu_test_cmd test = { .size = sizeof(test), .op = 0xffff };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	bool release = getenv("IOMMUFD_EXPECT_RELEASE");
	bool ok;
	int fd;

	fd = iommufd_open();
	if (fd < 0)
		return false;
	ok = !ioctl(fd, IOMMU_IOAS_ALLOC, &alloc);
	/* A release build does not know the test command at all. */
	if (ioctl(fd, IOMMU_TEST_CMD, &test) && errno == ENOTTY)
		ok = ok && release;
	else
		ok = ok && !release;
	close(fd);
	return ok;
}

FIXTURE(intree)
{
	const struct module_build *b;
	int kmsg;
};

FIXTURE_SETUP(intree)
{
	self->kmsg = -1;
	if (access(STANDIN_DIR, F_OK))
		SKIP(return, "no " STANDIN_DIR " (only in the test VM)");
	self->b = this_build();
	ASSERT_TRUE(module_loaded(self->b->name)) TH_LOG("%s", self->b->name);
	ASSERT_FALSE(module_loaded("iommufd"));
	ASSERT_FALSE(module_loaded("iommu_holder"));
	self->kmsg = kmsg_open();
	ASSERT_LE(0, self->kmsg);
}

/* Whatever a test left: the stand-ins go, ours is back and works. */
FIXTURE_TEARDOWN(intree)
{
	if (self->kmsg < 0)
		return;
	close(self->kmsg);
	if (module_loaded("iommufd"))
		EXPECT_EQ(0, unload_module("iommufd"));
	if (module_loaded("iommu_holder"))
		EXPECT_EQ(0, unload_module("iommu_holder"));
	if (!module_loaded(self->b->name))
		EXPECT_EQ(0, load_build(self->b));
	EXPECT_TRUE(ours_works());
}

/* The in-tree module first: the loader refuses ours, naming the owner. */
TEST_F(intree, ours_refused_after_the_intree_module)
{
	ASSERT_EQ(0, unload_module(self->b->name));
	ASSERT_EQ(0, load_module_file(STANDIN_DIR "/iommufd.ko"));
	ASSERT_EQ(-ENOEXEC, load_build(self->b));
	ASSERT_FALSE(module_loaded(self->b->name));
	EXPECT_TRUE(kmsg_has(self->kmsg,
			     "exports duplicate symbol iommufd_ctx_get (owned by iommufd)"));
	/* /dev/iommu is still the stand-in's: it knows no command. */
	ASSERT_FALSE(ours_works());
	ASSERT_EQ(0, unload_module("iommufd"));
	ASSERT_EQ(0, load_build(self->b));
	ASSERT_TRUE(ours_works());
}

/* Ours first: the in-tree module is refused, and ours keeps working. */
TEST_F(intree, intree_module_refused_after_ours)
{
	char owner[160];

	ASSERT_EQ(-ENOEXEC, load_module_file(STANDIN_DIR "/iommufd.ko"));
	ASSERT_FALSE(module_loaded("iommufd"));
	snprintf(owner, sizeof(owner),
		 "iommufd: exports duplicate symbol iommufd_ctx_get (owned by %s)",
		 self->b->name);
	EXPECT_TRUE(kmsg_has(self->kmsg, owner)) TH_LOG("no '%s'", owner);
	ASSERT_TRUE(ours_works());
}

/*
 * Another driver holds /dev/iommu, with no export of ours to collide
 * with: our init refuses with EBUSY and says why, before it registers
 * anything (no sysfs duplicate, so no stack dump).
 */
TEST_F(intree, ours_refused_while_another_holds_dev_iommu)
{
	char msg[160];

	ASSERT_EQ(0, unload_module(self->b->name));
	ASSERT_EQ(0, load_module_file(STANDIN_DIR "/iommu_holder.ko"));
	ASSERT_EQ(-EBUSY, load_build(self->b));
	ASSERT_FALSE(module_loaded(self->b->name));
	snprintf(msg, sizeof(msg),
		 "%s: /dev/iommu is already registered (is the in-tree iommufd loaded?)",
		 self->b->name);
	EXPECT_TRUE(kmsg_has(self->kmsg, msg)) TH_LOG("no '%s'", msg);
	ASSERT_EQ(0, unload_module("iommu_holder"));
	ASSERT_EQ(0, load_build(self->b));
	ASSERT_TRUE(ours_works());
}

TEST_HARNESS_MAIN
