// SPDX-License-Identifier: GPL-2.0
/*
 * Privilege: /dev/iommu is a character device of mode 0660, as upstream,
 * so only root and the device's group open it; the option that changes
 * how pinned memory is charged needs CAP_SYS_RESOURCE, and refuses
 * without it while reading it stays open to everyone. (That the test
 * command exists only in test builds is iommufd_fd@release's check.)
 */
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "iommufd_utils.h"

TEST(dev_iommu_is_a_char_device_of_mode_0660)
{
	struct stat st;

	ASSERT_EQ(0, stat(IOMMUFD_DEV, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(0660, st.st_mode & 07777);
}

TEST(other_users_cannot_open_dev_iommu)
{
	struct stat st;
	pid_t pid;
	int status;

	ASSERT_EQ(0, stat(IOMMUFD_DEV, &st));
	if (geteuid())
		SKIP(return, "needs root to switch users");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Neither the owner nor in the group: "others" get nothing. */
		uid_t uid = st.st_uid + 1000;
		gid_t gid = st.st_gid + 1000;

		if (setgroups(0, NULL) || setgid(gid) || setuid(uid))
			_exit(2);
		_exit(iommufd_open() < 0 && errno == EACCES ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

static int rlimit_mode(int fd, __u16 op, __u64 *val)
{
	return iommufd_option(fd, IOMMU_OPTION_RLIMIT_MODE, op, 0, val);
}

TEST(rlimit_mode_needs_cap_sys_resource_to_set_not_to_get)
{
	__u64 val = 1;
	pid_t pid;
	int status;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = iommufd_open();

		if (fd < 0 || cap_drop(CAP_SYS_RESOURCE))
			_exit(2);
		/* Refused either way, even on an empty context. */
		if (rlimit_mode(fd, IOMMU_OPTION_OP_SET, &val) != -EPERM)
			_exit(3);
		val = 0;
		if (rlimit_mode(fd, IOMMU_OPTION_OP_SET, &val) != -EPERM)
			_exit(4);
		if (rlimit_mode(fd, IOMMU_OPTION_OP_GET, &val) || val != 0)
			_exit(5);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	/* With the capability (root in the VM), the same set works. */
	if (geteuid())
		SKIP(return, "not root");
	{
		int fd = iommufd_open();

		ASSERT_LE(0, fd);
		val = 1;
		ASSERT_EQ(0, rlimit_mode(fd, IOMMU_OPTION_OP_SET, &val));
		ASSERT_EQ(0, rlimit_mode(fd, IOMMU_OPTION_OP_GET, &val));
		ASSERT_EQ(1, val);
		close(fd);
	}
}

TEST(dropping_the_capability_in_one_task_leaves_an_open_context_alone)
{
	__u64 val = 1;
	int fd;

	/* The check is at the call, against the caller's credentials. */
	fd = iommufd_open();
	ASSERT_LE(0, fd);
	if (geteuid())
		SKIP(return, "not root");
	ASSERT_EQ(0, rlimit_mode(fd, IOMMU_OPTION_OP_SET, &val));
	if (!fork()) {
		val = 0;
		if (cap_drop(CAP_SYS_RESOURCE))
			_exit(2);
		_exit(rlimit_mode(fd, IOMMU_OPTION_OP_SET, &val) == -EPERM ?
		      0 : 1);
	}
	{
		int status;

		ASSERT_LT(0, wait(&status));
		ASSERT_EQ(0, WEXITSTATUS(status));
	}
	ASSERT_EQ(0, rlimit_mode(fd, IOMMU_OPTION_OP_GET, &val));
	ASSERT_EQ(1, val);
	close(fd);
}

TEST_HARNESS_MAIN
