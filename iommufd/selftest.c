// SPDX-License-Identifier: GPL-2.0
/*
 * IOMMU_TEST_CMD: the test-only command that lets the selftests reach
 * inside the module (mock devices, in-kernel accesses, reference checks).
 * Compiled only into test builds (CONFIG_IOMMUFD_OOT_TEST); a release build
 * answers the command number with ENOTTY like any unknown command.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>

#include "iommufd_private.h"
#include "iommufd_test.h"

/*
 * A test access is an iommufd_access owned by an anonymous fd, so that the
 * selftests control its lifetime by closing the fd, as a driver would by
 * unbinding.
 */
static int test_access_release(struct inode *inode, struct file *file)
{
	iommufd_access_destroy(file->private_data);
	return 0;
}

static const struct file_operations test_access_fops = {
	.owner = THIS_MODULE,
	.release = test_access_release,
};

static int test_create_access(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct iommufd_access *access;
	struct file *file;
	int fd, rc;

	if (cmd->create_access.flags &
	    ~MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES)
		return -EOPNOTSUPP;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	access = iommufd_access_create(ucmd->ictx, cmd->id);
	if (IS_ERR(access)) {
		rc = PTR_ERR(access);
		goto err_fd;
	}
	file = anon_inode_getfile("[iommufd_test_access]", &test_access_fops,
				  access, O_RDWR);
	if (IS_ERR(file)) {
		rc = PTR_ERR(file);
		goto err_access;
	}
	cmd->create_access.out_access_fd = fd;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto err_file;
	fd_install(fd, file);
	return 0;

err_file:
	/* The file's release destroys the access. */
	fput(file);
	put_unused_fd(fd);
	return rc;
err_access:
	iommufd_access_destroy(access);
err_fd:
	put_unused_fd(fd);
	return rc;
}

int iommufd_test(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	switch (cmd->op) {
	case IOMMU_TEST_OP_CREATE_ACCESS:
		return test_create_access(ucmd);
	default:
		return -EOPNOTSUPP;
	}
}
