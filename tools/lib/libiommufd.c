// SPDX-License-Identifier: GPL-2.0
/*
 * libiommufd: see libiommufd.h. Each function is the command's struct,
 * one ioctl and the copy-out of its out fields.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "libiommufd.h"

static __u64 u64_ptr(const void *p)
{
	return (__u64)(uintptr_t)p;
}

int iommufd_open(const char *path)
{
	int fd = open(path ? path : IOMMUFD_DEV_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int iommufd_close(int fd)
{
	return close(fd) ? -errno : 0;
}

/* This thread's route to io_uring, if any (iommufd_uring_route()). */
static __thread struct iommufd_transport *transport;

void iommufd_set_transport(struct iommufd_transport *t)
{
	transport = t;
}

int iommufd_ioctl(int fd, unsigned long request, void *arg)
{
	if (transport && transport->fd == fd)
		return transport->ioctl(transport, request, arg);
	return ioctl(fd, request, arg) ? -errno : 0;
}

int iommufd_destroy(int fd, __u32 id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return iommufd_ioctl(fd, IOMMU_DESTROY, &cmd);
}

int iommufd_ioas_alloc(int fd, __u32 *ioas_id)
{
	return iommufd_ioas_alloc_flags(fd, 0, ioas_id);
}

int iommufd_ioas_alloc_flags(int fd, __u32 flags, __u32 *ioas_id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd), .flags = flags };
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_ALLOC, &cmd);
	if (!rc)
		*ioas_id = cmd.out_ioas_id;
	return rc;
}

int iommufd_ioas_map(int fd, __u32 ioas_id, void *va, __u64 length,
		     __u64 *iova, __u32 flags)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas_id,
		.user_va = u64_ptr(va),
		.length = length,
		.iova = *iova,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_MAP, &cmd);
	if (!rc)
		*iova = cmd.iova;
	return rc;
}

int iommufd_ioas_unmap(int fd, __u32 ioas_id, __u64 iova, __u64 length,
		       __u64 *unmapped)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = length,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_UNMAP, &cmd);
	if (!rc && unmapped)
		*unmapped = cmd.length;
	return rc;
}

int iommufd_ioas_copy(int fd, __u32 dst_ioas_id, __u32 src_ioas_id,
		      __u64 src_iova, __u64 length, __u64 *dst_iova,
		      __u32 flags)
{
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dst_ioas_id = dst_ioas_id,
		.src_ioas_id = src_ioas_id,
		.length = length,
		.dst_iova = *dst_iova,
		.src_iova = src_iova,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_COPY, &cmd);
	if (!rc)
		*dst_iova = cmd.dst_iova;
	return rc;
}

int iommufd_ioas_iova_ranges(int fd, __u32 ioas_id,
			     struct iommu_iova_range *ranges, __u32 *num,
			     __u64 *alignment)
{
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.num_iovas = *num,
		.allowed_iovas = u64_ptr(ranges),
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &cmd);
	if (!rc || rc == -EMSGSIZE) {
		*num = cmd.num_iovas;
		if (alignment)
			*alignment = cmd.out_iova_alignment;
	}
	return rc;
}

int iommufd_ioas_allow_iovas(int fd, __u32 ioas_id,
			     const struct iommu_iova_range *ranges,
			     __u32 num)
{
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.num_iovas = num,
		.allowed_iovas = u64_ptr(ranges),
	};

	return iommufd_ioctl(fd, IOMMU_IOAS_ALLOW_IOVAS, &cmd);
}

int iommufd_option(int fd, __u16 op, __u32 option_id, __u32 object_id,
		   __u64 *val64)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = option_id,
		.op = op,
		.object_id = object_id,
		.val64 = *val64,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_OPTION, &cmd);
	if (!rc)
		*val64 = cmd.val64;
	return rc;
}

int iommufd_hwpt_alloc(int fd, __u32 flags, __u32 dev_id, __u32 pt_id,
		       __u32 *hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.data_type = IOMMU_HWPT_DATA_NONE,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_HWPT_ALLOC, &cmd);
	if (!rc)
		*hwpt_id = cmd.out_hwpt_id;
	return rc;
}

int iommufd_get_hw_info(int fd, __u32 dev_id, void *data, __u32 *data_len,
			__u32 *data_type, __u8 *max_pasid_log2,
			__u64 *capabilities)
{
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.data_len = *data_len,
		.data_uptr = u64_ptr(data),
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_GET_HW_INFO, &cmd);
	if (!rc) {
		*data_len = cmd.data_len;
		*data_type = cmd.out_data_type;
		*max_pasid_log2 = cmd.out_max_pasid_log2;
		*capabilities = cmd.out_capabilities;
	}
	return rc;
}

int iommufd_ioas_create_window(int fd, __u32 ioas_id, __u32 flags,
			       __u32 attrs, __u64 *base, __u64 length,
			       __u64 *page_size)
{
	struct iommu_ioas_create_window cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas_id,
		.attrs = attrs,
		.base = *base,
		.length = length,
		.page_size = *page_size,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_CREATE_WINDOW, &cmd);
	if (!rc) {
		*base = cmd.base;
		*page_size = cmd.page_size;
	}
	return rc;
}

int iommufd_ioas_remove_window(int fd, __u32 ioas_id, __u64 base,
			       __u64 *unmapped)
{
	struct iommu_ioas_remove_window cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.base = base,
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_REMOVE_WINDOW, &cmd);
	if (!rc && unmapped)
		*unmapped = cmd.out_unmapped;
	return rc;
}

int iommufd_ioas_list_windows(int fd, __u32 ioas_id,
			      struct iommu_ioas_window *windows, __u32 *num)
{
	struct iommu_ioas_list_windows cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.num_windows = *num,
		.windows = u64_ptr(windows),
	};
	int rc;

	rc = iommufd_ioctl(fd, IOMMU_IOAS_LIST_WINDOWS, &cmd);
	if (!rc || rc == -EMSGSIZE)
		*num = cmd.num_windows;
	return rc;
}

int iommufd_test_cmd(int fd, __u32 op, __u32 id, struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	cmd->op = op;
	cmd->id = id;
	return iommufd_ioctl(fd, IOMMU_TEST_CMD, cmd);
}

/*
 * An op no build knows: a test build answers EOPNOTSUPP, a release build,
 * which has no IOMMU_TEST_CMD at all, ENOTTY.
 */
int iommufd_is_test_build(int fd)
{
	struct iommu_test_cmd cmd = {};
	int rc;

	rc = iommufd_test_cmd(fd, IOMMU_TEST_OP_EXT_BASE - 1, 0, &cmd);
	if (rc == -ENOTTY)
		return 0;
	if (rc == -EOPNOTSUPP || !rc)
		return 1;
	return rc;
}

int iommufd_test_add_reserved(int fd, __u32 ioas_id, __u64 start,
			      __u64 length)
{
	struct iommu_test_cmd cmd = {
		.add_reserved = { .start = start, .length = length },
	};

	return iommufd_test_cmd(fd, IOMMU_TEST_OP_ADD_RESERVED, ioas_id, &cmd);
}

int iommufd_test_create_access(int fd, __u32 ioas_id, __u32 flags,
			       int *access_fd)
{
	struct iommu_test_cmd cmd = { .create_access = { .flags = flags } };
	int rc;

	rc = iommufd_test_cmd(fd, IOMMU_TEST_OP_CREATE_ACCESS, ioas_id, &cmd);
	if (!rc)
		*access_fd = cmd.create_access.out_access_fd;
	return rc;
}

int iommufd_test_access_pages(int fd, int access_fd, __u64 iova,
			      __u64 length, void *uptr, __u32 flags,
			      __u32 *pages_id)
{
	struct iommu_test_cmd cmd = {
		.access_pages = {
			.flags = flags,
			.iova = iova,
			.length = length,
			.uptr = u64_ptr(uptr),
		},
	};
	int rc;

	rc = iommufd_test_cmd(fd, IOMMU_TEST_OP_ACCESS_PAGES, access_fd, &cmd);
	if (!rc)
		*pages_id = cmd.access_pages.out_access_pages_id;
	return rc;
}

int iommufd_test_destroy_access_pages(int fd, int access_fd, __u32 pages_id)
{
	struct iommu_test_cmd cmd = {
		.destroy_access_pages = { .access_pages_id = pages_id },
	};

	return iommufd_test_cmd(fd, IOMMU_TEST_OP_DESTROY_ACCESS_PAGES,
				access_fd, &cmd);
}

int iommufd_test_access_rw(int fd, int access_fd, __u64 iova, void *buf,
			   __u64 length, __u32 flags)
{
	struct iommu_test_cmd cmd = {
		.access_rw = {
			.iova = iova,
			.length = length,
			.uptr = u64_ptr(buf),
			.flags = flags,
		},
	};

	return iommufd_test_cmd(fd, IOMMU_TEST_OP_ACCESS_RW, access_fd, &cmd);
}

int iommufd_test_access_replace_ioas(int fd, int access_fd, __u32 ioas_id)
{
	struct iommu_test_cmd cmd = {
		.access_replace_ioas = { .ioas_id = ioas_id },
	};

	return iommufd_test_cmd(fd, IOMMU_TEST_OP_ACCESS_REPLACE_IOAS,
				access_fd, &cmd);
}

int iommufd_test_md_check_refs(int fd, void *uptr, __u64 length,
			       __u32 refs)
{
	struct iommu_test_cmd cmd = {
		.check_refs = {
			.length = length,
			.uptr = u64_ptr(uptr),
			.refs = refs,
		},
	};

	return iommufd_test_cmd(fd, IOMMU_TEST_OP_MD_CHECK_REFS, 0, &cmd);
}

int iommufd_test_set_temp_memory_limit(int fd, __u32 limit)
{
	struct iommu_test_cmd cmd = { .memory_limit = { .limit = limit } };

	return iommufd_test_cmd(fd, IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT, 0,
				&cmd);
}

int iommufd_test_mock_domain(int fd, __u32 pt_id, __u32 dev_flags,
			     __u32 *stdev_id, __u32 *hwpt_id, __u32 *idev_id)
{
	struct iommu_test_cmd cmd = {
		.mock_domain_flags = { .dev_flags = dev_flags },
	};
	int rc;

	rc = iommufd_test_cmd(fd, dev_flags ? IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS :
				  IOMMU_TEST_OP_MOCK_DOMAIN, pt_id, &cmd);
	if (!rc) {
		*stdev_id = cmd.mock_domain.out_stdev_id;
		*hwpt_id = cmd.mock_domain.out_hwpt_id;
		*idev_id = cmd.mock_domain.out_idev_id;
	}
	return rc;
}

int iommufd_test_mock_domain_replace(int fd, __u32 stdev_id, __u32 *pt_id)
{
	struct iommu_test_cmd cmd = {
		.mock_domain_replace = { .pt_id = *pt_id },
	};
	int rc;

	rc = iommufd_test_cmd(fd, IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, stdev_id,
			      &cmd);
	if (!rc)
		*pt_id = cmd.mock_domain_replace.pt_id;
	return rc;
}

int iommufd_test_mock_device_add_resv(int fd, __u32 stdev_id, __u64 start,
				      __u64 length)
{
	struct iommu_test_cmd cmd = {
		.add_reserved = { .start = start, .length = length },
	};

	return iommufd_test_cmd(fd, IOMMU_TEST_OP_MOCK_DEVICE_ADD_RESV,
				stdev_id, &cmd);
}

int iommufd_test_md_check_map(int fd, __u32 hwpt_id, __u64 iova,
			      void *uptr, __u64 length)
{
	struct iommu_test_cmd cmd = {
		.check_map = {
			.iova = iova,
			.length = length,
			.uptr = u64_ptr(uptr),
		},
	};

	return iommufd_test_cmd(fd, IOMMU_TEST_OP_MD_CHECK_MAP, hwpt_id, &cmd);
}

int iommufd_test_md_iopte_stats(int fd, __u32 hwpt_id, __u64 iova,
				__u64 length,
				struct iommu_test_iopte_stats *stats)
{
	struct iommu_test_cmd cmd = {
		.check_map = {
			.iova = iova,
			.length = length,
			.uptr = u64_ptr(stats),
		},
	};

	return iommufd_test_cmd(fd, IOMMU_TEST_OP_MD_IOPTE_STATS, hwpt_id,
				&cmd);
}

int iommufd_test_fail_nth(int fd, __u32 nth, __u32 kinds, __u32 *fired,
			  __u32 *seen)
{
	struct iommu_test_cmd cmd = {
		.fail_nth = { .nth = nth, .kinds = kinds },
	};
	int rc;

	rc = iommufd_test_cmd(fd, IOMMU_TEST_OP_FAIL_NTH, 0, &cmd);
	if (!rc && fired)
		*fired = cmd.fail_nth.out_fired;
	if (!rc && seen)
		*seen = cmd.fail_nth.out_seen;
	return rc;
}
