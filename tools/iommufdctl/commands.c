// SPDX-License-Identifier: GPL-2.0
/*
 * The commands: one handler and one table entry each. A handler reads
 * its arguments (already checked against the entry's spec), calls
 * libiommufd and reports the out fields; it returns 0, -errno from the
 * kernel, or CTL_USAGE after ctl_usage() said what is wrong.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iommufdctl.h"
#include "commands.h"
#include "mem.h"
#include "output.h"
#include "parse.h"
#include "session.h"
#include "vfio.h"
#include "vfio_link.h"

static const struct ctl_flag map_flags[] = {
	{ "read", IOMMU_IOAS_MAP_READABLE },
	{ "write", IOMMU_IOAS_MAP_WRITEABLE },
	{ "fixed", IOMMU_IOAS_MAP_FIXED_IOVA },
	{ }
};

static const struct ctl_flag options[] = {
	{ "rlimit_mode", IOMMU_OPTION_RLIMIT_MODE },
	{ "huge_pages", IOMMU_OPTION_HUGE_PAGES },
	{ }
};

static const struct ctl_flag create_access_flags[] = {
	{ "pin", MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES },
	{ }
};

static const struct ctl_flag access_pages_flags[] = {
	{ "write", MOCK_FLAGS_ACCESS_WRITE },
	{ "syz", MOCK_FLAGS_ACCESS_SYZ },
	{ }
};

static const struct ctl_flag access_rw_flags[] = {
	{ "write", MOCK_ACCESS_RW_WRITE },
	{ "slow", MOCK_ACCESS_RW_SLOW_PATH },
	{ "syz", MOCK_FLAGS_ACCESS_SYZ },
	{ }
};

static const struct ctl_flag ioas_alloc_flags[] = {
	{ "windowed", IOMMU_IOAS_ALLOC_WINDOWED },
	{ }
};

static const struct ctl_flag device_flags[] = {
	{ "nodirty", MOCK_FLAGS_DEVICE_NO_DIRTY },
	{ "huge", MOCK_FLAGS_DEVICE_HUGE_IOVA },
	{ }
};

static const struct ctl_flag hwpt_alloc_flags[] = {
	{ "nest_parent", IOMMU_HWPT_ALLOC_NEST_PARENT },
	{ "dirty_tracking", IOMMU_HWPT_ALLOC_DIRTY_TRACKING },
	{ "fault_id_valid", IOMMU_HWPT_FAULT_ID_VALID },
	{ }
};

static const struct ctl_flag window_attrs[] = {
	{ "exact", IOMMU_WINDOW_ATTR_EXACT_IOPTE },
	{ }
};

static const struct ctl_flag fault_kinds[] = {
	{ "alloc", MOCK_FAULT_ALLOC },
	{ "pin", MOCK_FAULT_PIN },
	{ "copy", MOCK_FAULT_USER_COPY },
	{ "map", MOCK_FAULT_IOMMU_MAP },
	{ "all", MOCK_FAULT_ALL },
	{ }
};

static const struct ctl_flag hw_info_types[] = {
	{ "none", IOMMU_HW_INFO_TYPE_NONE },
	{ "intel_vtd", IOMMU_HW_INFO_TYPE_INTEL_VTD },
	{ "selftest", IOMMU_HW_INFO_TYPE_SELFTEST },
	{ }
};

static const struct ctl_flag hw_caps[] = {
	{ "dirty_tracking", IOMMU_HW_CAP_DIRTY_TRACKING },
	{ "pasid_exec", IOMMU_HW_CAP_PCI_PASID_EXEC },
	{ "pasid_priv", IOMMU_HW_CAP_PCI_PASID_PRIV },
	{ }
};

/* Every ioctl of uapi/linux/iommufd.h, for "raw". */
static const struct ctl_flag ioctls[] = {
	{ "destroy", IOMMU_DESTROY },
	{ "ioas_alloc", IOMMU_IOAS_ALLOC },
	{ "ioas_allow_iovas", IOMMU_IOAS_ALLOW_IOVAS },
	{ "ioas_copy", IOMMU_IOAS_COPY },
	{ "ioas_iova_ranges", IOMMU_IOAS_IOVA_RANGES },
	{ "ioas_map", IOMMU_IOAS_MAP },
	{ "ioas_unmap", IOMMU_IOAS_UNMAP },
	{ "option", IOMMU_OPTION },
	{ "vfio_ioas", IOMMU_VFIO_IOAS },
	{ "hwpt_alloc", IOMMU_HWPT_ALLOC },
	{ "get_hw_info", IOMMU_GET_HW_INFO },
	{ "hwpt_set_dirty_tracking", IOMMU_HWPT_SET_DIRTY_TRACKING },
	{ "hwpt_get_dirty_bitmap", IOMMU_HWPT_GET_DIRTY_BITMAP },
	{ "hwpt_invalidate", IOMMU_HWPT_INVALIDATE },
	{ "fault_queue_alloc", IOMMU_FAULT_QUEUE_ALLOC },
	{ "test_cmd", IOMMU_TEST_CMD },
	{ "ioas_create_window", IOMMU_IOAS_CREATE_WINDOW },
	{ "ioas_remove_window", IOMMU_IOAS_REMOVE_WINDOW },
	{ "ioas_list_windows", IOMMU_IOAS_LIST_WINDOWS },
	{ }
};

/* Text that must outlive the handler, until the next command's. */
static char *text_buf;

static int check_room(struct ctl *ctl, __u64 length, __u64 room)
{
	if (length > room)
		return ctl_usage(ctl, "LENGTH: 0x%llx is past the end of the buffer (0x%llx left)",
				 (unsigned long long)length,
				 (unsigned long long)room);
	return 0;
}

static int cmd_destroy(struct ctl *ctl, struct ctl_args *a)
{
	__u32 id;

	if (parse_u32(ctl, "ID", a->argv[0], &id))
		return CTL_USAGE;
	return iommufd_destroy(ctl->fd, id);
}

/* Flag words (KIND...) from @first on, by name or number. */
static int flag_words(struct ctl *ctl, const char *what, struct ctl_args *a,
		      int first, const struct ctl_flag *names, __u32 *flags)
{
	__u64 v, all = 0;
	int i;

	for (i = first; i < a->argc; i++) {
		if (parse_flags(ctl, what, a->argv[i], names, &v))
			return CTL_USAGE;
		all |= v;
	}
	if (all > UINT32_MAX)
		return ctl_usage(ctl, "%s: more than 32 bits", what);
	*flags = all;
	return 0;
}

/* An option of flags, 0 if not given; at most 32 bits. */
static int flag_opt(struct ctl *ctl, struct ctl_args *a, const char *key,
		    const struct ctl_flag *names, __u32 *flags)
{
	__u64 v = 0;

	if (opt(a, key) && parse_flags(ctl, key, opt(a, key), names, &v))
		return CTL_USAGE;
	if (v > UINT32_MAX)
		return ctl_usage(ctl, "%s: more than 32 bits", key);
	*flags = v;
	return 0;
}

/* The name of @val in @names, or NULL. */
static const char *flag_name(const struct ctl_flag *names, __u64 val)
{
	for (; names->name; names++)
		if (names->value == val)
			return names->name;
	return NULL;
}

/* Names of the bits of @val, "a,b", numbers for unknown ones. */
static const char *flag_names(const struct ctl_flag *names, __u64 val,
			      char *buf, size_t size)
{
	const struct ctl_flag *f;
	size_t len = 0;

	buf[0] = 0;
	for (f = names; f->name && val; f++) {
		if (!(val & f->value) || (f->value & (f->value - 1)))
			continue;
		len += snprintf(buf + len, size - len, "%s%s", len ? "," : "",
				f->name);
		val &= ~f->value;
	}
	if (val)
		snprintf(buf + len, size - len, "%s0x%llx", len ? "," : "",
			 (unsigned long long)val);
	if (!buf[0])
		snprintf(buf, size, "none");
	return buf;
}

static int cmd_ioas_alloc(struct ctl *ctl, struct ctl_args *a)
{
	__u32 id, flags;
	int rc;

	if (flag_words(ctl, "KIND", a, 0, ioas_alloc_flags, &flags))
		return CTL_USAGE;
	rc = iommufd_ioas_alloc_flags(ctl->fd, flags, &id);
	if (!rc)
		out_dec(ctl, "ioas", id);
	return rc;
}

/* The flags= option of map and copy; iova= implies "fixed". */
static int map_args(struct ctl *ctl, struct ctl_args *a, __u64 *iova,
		    __u32 *flags)
{
	__u64 f = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;

	*iova = 0;
	if (opt(a, "flags") &&
	    parse_flags(ctl, "flags", opt(a, "flags"), map_flags, &f))
		return CTL_USAGE;
	if (opt(a, "iova")) {
		if (parse_u64(ctl, "iova", opt(a, "iova"), iova))
			return CTL_USAGE;
		f |= IOMMU_IOAS_MAP_FIXED_IOVA;
	}
	if (f > UINT32_MAX)
		return ctl_usage(ctl, "flags: more than 32 bits");
	*flags = f;
	return 0;
}

static int cmd_ioas_map(struct ctl *ctl, struct ctl_args *a)
{
	__u64 length, room, iova;
	__u32 ioas, flags;
	void *va;
	int rc;

	if (parse_u32(ctl, "IOAS", a->argv[0], &ioas) ||
	    parse_buf(ctl, "BUF", a->argv[1], &va, &room) ||
	    parse_u64(ctl, "LENGTH", a->argv[2], &length) ||
	    check_room(ctl, length, room) ||
	    map_args(ctl, a, &iova, &flags))
		return CTL_USAGE;
	rc = iommufd_ioas_map(ctl->fd, ioas, va, length, &iova, flags);
	if (!rc) {
		out_hex(ctl, "iova", iova);
		out_hex(ctl, "length", length);
	}
	return rc;
}

static int cmd_ioas_unmap(struct ctl *ctl, struct ctl_args *a)
{
	__u64 iova = 0, length = UINT64_MAX, unmapped;
	__u32 ioas;
	int rc;

	if (parse_u32(ctl, "IOAS", a->argv[0], &ioas))
		return CTL_USAGE;
	if (a->argc == 2)
		return ctl_usage(ctl, "give both IOVA and LENGTH, or neither");
	if (a->argc == 3 &&
	    (parse_u64(ctl, "IOVA", a->argv[1], &iova) ||
	     parse_u64(ctl, "LENGTH", a->argv[2], &length)))
		return CTL_USAGE;
	rc = iommufd_ioas_unmap(ctl->fd, ioas, iova, length, &unmapped);
	if (!rc)
		out_hex(ctl, "unmapped", unmapped);
	return rc;
}

static int cmd_ioas_copy(struct ctl *ctl, struct ctl_args *a)
{
	__u64 src_iova, length, iova;
	__u32 src, dst, flags;
	int rc;

	if (parse_u32(ctl, "SRC", a->argv[0], &src) ||
	    parse_u64(ctl, "SRC_IOVA", a->argv[1], &src_iova) ||
	    parse_u64(ctl, "LENGTH", a->argv[2], &length) ||
	    parse_u32(ctl, "DST", a->argv[3], &dst) ||
	    map_args(ctl, a, &iova, &flags))
		return CTL_USAGE;
	rc = iommufd_ioas_copy(ctl->fd, dst, src, src_iova, length, &iova,
			       flags);
	if (!rc) {
		out_hex(ctl, "iova", iova);
		out_hex(ctl, "length", length);
	}
	return rc;
}

static int cmd_ioas_ranges(struct ctl *ctl, struct ctl_args *a)
{
	struct iommu_iova_range *ranges = NULL;
	__u32 ioas, num = 0, room = 0, i;
	__u64 align;
	int rc;

	if (parse_u32(ctl, "IOAS", a->argv[0], &ioas))
		return CTL_USAGE;
	/* Ask for the count, then for that many, until they fit. */
	while ((rc = iommufd_ioas_iova_ranges(ctl->fd, ioas, ranges, &num,
					      &align)) == -EMSGSIZE) {
		free(ranges);
		room = num;
		ranges = calloc(room, sizeof(*ranges));
		if (!ranges)
			abort();
	}
	if (!rc) {
		out_dec(ctl, "count", num);
		out_hex(ctl, "alignment", align);
		out_list(ctl, "range");
		for (i = 0; i < num && i < room; i++) {
			out_item(ctl);
			out_hex(ctl, "start", ranges[i].start);
			out_hex(ctl, "last", ranges[i].last);
		}
	}
	free(ranges);
	return rc;
}

static int cmd_ioas_allow(struct ctl *ctl, struct ctl_args *a)
{
	struct iommu_iova_range ranges[CTL_MAX_WORDS];
	__u32 ioas;
	int i;

	if (parse_u32(ctl, "IOAS", a->argv[0], &ioas))
		return CTL_USAGE;
	for (i = 1; i < a->argc; i++)
		if (parse_range(ctl, "RANGE", a->argv[i], &ranges[i - 1]))
			return CTL_USAGE;
	return iommufd_ioas_allow_iovas(ctl->fd, ioas, ranges, a->argc - 1);
}

static int option_args(struct ctl *ctl, struct ctl_args *a, __u32 *option,
		       __u32 *object)
{
	__u64 id;

	*object = 0;
	if (parse_flags(ctl, "OPTION", a->argv[0], options, &id))
		return CTL_USAGE;
	if (id > UINT32_MAX)
		return ctl_usage(ctl, "OPTION: more than 32 bits");
	*option = id;
	if (opt(a, "object") && parse_u32(ctl, "object", opt(a, "object"),
					  object))
		return CTL_USAGE;
	return 0;
}

static int cmd_option_get(struct ctl *ctl, struct ctl_args *a)
{
	__u32 option, object;
	__u64 val = 0;
	int rc;

	if (option_args(ctl, a, &option, &object))
		return CTL_USAGE;
	rc = iommufd_option(ctl->fd, IOMMU_OPTION_OP_GET, option, object,
			    &val);
	if (!rc)
		out_dec(ctl, "value", val);
	return rc;
}

static int cmd_option_set(struct ctl *ctl, struct ctl_args *a)
{
	__u32 option, object;
	__u64 val;

	if (option_args(ctl, a, &option, &object) ||
	    parse_u64(ctl, "VALUE", a->argv[1], &val))
		return CTL_USAGE;
	return iommufd_option(ctl->fd, IOMMU_OPTION_OP_SET, option, object,
			      &val);
}

static int cmd_reserve(struct ctl *ctl, struct ctl_args *a)
{
	__u64 start, length;
	__u32 ioas;

	if (parse_u32(ctl, "IOAS", a->argv[0], &ioas) ||
	    parse_u64(ctl, "START", a->argv[1], &start) ||
	    parse_u64(ctl, "LENGTH", a->argv[2], &length))
		return CTL_USAGE;
	return iommufd_test_add_reserved(ctl->fd, ioas, start, length);
}

static int cmd_access_create(struct ctl *ctl, struct ctl_args *a)
{
	struct ctl_access *acc;
	__u64 flags = 0;
	__u32 ioas;
	int rc, fd;

	if (parse_u32(ctl, "IOAS", a->argv[0], &ioas) ||
	    (opt(a, "flags") && parse_flags(ctl, "flags", opt(a, "flags"),
					    create_access_flags, &flags)))
		return CTL_USAGE;
	rc = iommufd_test_create_access(ctl->fd, ioas, flags, &fd);
	if (rc)
		return rc;
	acc = calloc(1, sizeof(*acc));
	if (!acc)
		abort();
	acc->fd = fd;
	acc->next = ctl->accesses;
	ctl->accesses = acc;
	out_dec(ctl, "access", fd);
	return 0;
}

static int parse_access(struct ctl *ctl, const char *s, int *fd)
{
	__u32 v;

	if (parse_u32(ctl, "ACCESS", s, &v))
		return CTL_USAGE;
	*fd = v;
	return 0;
}

static int cmd_access_pages(struct ctl *ctl, struct ctl_args *a)
{
	__u64 iova, length, room, flags = 0;
	void *uptr = NULL;
	__u32 id;
	int fd, rc;

	if (parse_access(ctl, a->argv[0], &fd) ||
	    parse_u64(ctl, "IOVA", a->argv[1], &iova) ||
	    parse_u64(ctl, "LENGTH", a->argv[2], &length) ||
	    (a->argc > 3 && (parse_buf(ctl, "BUF", a->argv[3], &uptr, &room) ||
			     check_room(ctl, length, room))) ||
	    (opt(a, "flags") && parse_flags(ctl, "flags", opt(a, "flags"),
					    access_pages_flags, &flags)))
		return CTL_USAGE;
	rc = iommufd_test_access_pages(ctl->fd, fd, iova, length, uptr, flags,
				       &id);
	if (!rc)
		out_dec(ctl, "pages", id);
	return rc;
}

static int cmd_access_unpin(struct ctl *ctl, struct ctl_args *a)
{
	__u32 id;
	int fd;

	if (parse_access(ctl, a->argv[0], &fd) ||
	    parse_u32(ctl, "PAGES", a->argv[1], &id))
		return CTL_USAGE;
	return iommufd_test_destroy_access_pages(ctl->fd, fd, id);
}

static int cmd_access_rw(struct ctl *ctl, struct ctl_args *a)
{
	__u64 iova, length, room, flags = 0;
	void *buf;
	int fd;

	if (parse_access(ctl, a->argv[0], &fd) ||
	    parse_u64(ctl, "IOVA", a->argv[1], &iova) ||
	    parse_buf(ctl, "BUF", a->argv[2], &buf, &room) ||
	    parse_u64(ctl, "LENGTH", a->argv[3], &length) ||
	    check_room(ctl, length, room) ||
	    (opt(a, "flags") && parse_flags(ctl, "flags", opt(a, "flags"),
					    access_rw_flags, &flags)))
		return CTL_USAGE;
	return iommufd_test_access_rw(ctl->fd, fd, iova, buf, length, flags);
}

static int cmd_access_replace(struct ctl *ctl, struct ctl_args *a)
{
	__u32 ioas;
	int fd;

	if (parse_access(ctl, a->argv[0], &fd) ||
	    parse_u32(ctl, "IOAS", a->argv[1], &ioas))
		return CTL_USAGE;
	return iommufd_test_access_replace_ioas(ctl->fd, fd, ioas);
}

static int cmd_access_destroy(struct ctl *ctl, struct ctl_args *a)
{
	struct ctl_access **pp, *acc;
	int fd;

	if (parse_access(ctl, a->argv[0], &fd))
		return CTL_USAGE;
	for (pp = &ctl->accesses; *pp; pp = &(*pp)->next) {
		if ((*pp)->fd != fd)
			continue;
		acc = *pp;
		*pp = acc->next;
		free(acc);
		return close(fd) ? -errno : 0;
	}
	return ctl_usage(ctl, "ACCESS: %d is not an access of this session",
			 fd);
}

static int cmd_check_refs(struct ctl *ctl, struct ctl_args *a)
{
	__u64 length, room;
	__u32 refs;
	void *buf;

	if (parse_buf(ctl, "BUF", a->argv[0], &buf, &room) ||
	    parse_u64(ctl, "LENGTH", a->argv[1], &length) ||
	    check_room(ctl, length, room) ||
	    parse_u32(ctl, "REFS", a->argv[2], &refs))
		return CTL_USAGE;
	return iommufd_test_md_check_refs(ctl->fd, buf, length, refs);
}

static int cmd_memory_limit(struct ctl *ctl, struct ctl_args *a)
{
	__u32 limit;

	if (parse_u32(ctl, "BYTES", a->argv[0], &limit))
		return CTL_USAGE;
	return iommufd_test_set_temp_memory_limit(ctl->fd, limit);
}

static int cmd_hwpt_alloc(struct ctl *ctl, struct ctl_args *a)
{
	__u32 dev, pt, flags, hwpt;
	int rc;

	if (parse_u32(ctl, "DEV", a->argv[0], &dev) ||
	    parse_u32(ctl, "IOAS", a->argv[1], &pt) ||
	    flag_opt(ctl, a, "flags", hwpt_alloc_flags, &flags))
		return CTL_USAGE;
	rc = iommufd_hwpt_alloc(ctl->fd, flags, dev, pt, &hwpt);
	if (!rc)
		out_dec(ctl, "hwpt", hwpt);
	return rc;
}

static int cmd_hw_info(struct ctl *ctl, struct ctl_args *a)
{
	union {
		struct iommu_test_hw_info test;
		struct iommu_hw_info_vtd vtd;
		unsigned char bytes[256];
	} data = { };
	__u32 dev, len = sizeof(data), type, i;
	char names[128], hex[2 * sizeof(data) + 1];
	const char *name;
	__u64 caps;
	__u8 pasid;
	int rc;

	if (parse_u32(ctl, "DEV", a->argv[0], &dev))
		return CTL_USAGE;
	rc = iommufd_get_hw_info(ctl->fd, dev, &data, &len, &type, &pasid,
				 &caps);
	if (rc)
		return rc;
	name = flag_name(hw_info_types, type);
	out_str(ctl, "type", name ? name : "unknown");
	out_hex(ctl, "data_type", type);
	out_dec(ctl, "data_len", len);
	out_dec(ctl, "max_pasid_log2", pasid);
	out_hex(ctl, "capabilities", caps);
	out_str(ctl, "caps", flag_names(hw_caps, caps, names, sizeof(names)));
	/* The driver's data, decoded where its type is known. */
	if (type == IOMMU_HW_INFO_TYPE_SELFTEST &&
	    len >= sizeof(data.test)) {
		out_hex(ctl, "test_flags", data.test.flags);
		out_hex(ctl, "test_reg", data.test.test_reg);
	} else if (type == IOMMU_HW_INFO_TYPE_INTEL_VTD &&
		   len >= sizeof(data.vtd)) {
		out_hex(ctl, "vtd_flags", data.vtd.flags);
		out_hex(ctl, "cap_reg", data.vtd.cap_reg);
		out_hex(ctl, "ecap_reg", data.vtd.ecap_reg);
	} else if (len) {
		for (i = 0; i < len && i < sizeof(data); i++)
			snprintf(hex + 2 * i, 3, "%02x", data.bytes[i]);
		out_str(ctl, "data", hex);
	}
	return 0;
}

static int cmd_window_create(struct ctl *ctl, struct ctl_args *a)
{
	__u64 length, base = 0, page_size = 0;
	__u32 ioas, attrs, flags = 0;
	int rc;

	if (parse_u32(ctl, "IOAS", a->argv[0], &ioas) ||
	    parse_u64(ctl, "LENGTH", a->argv[1], &length) ||
	    (opt(a, "base") && parse_u64(ctl, "base", opt(a, "base"), &base)) ||
	    (opt(a, "page_size") &&
	     parse_u64(ctl, "page_size", opt(a, "page_size"), &page_size)) ||
	    flag_opt(ctl, a, "attrs", window_attrs, &attrs))
		return CTL_USAGE;
	if (opt(a, "base"))
		flags |= IOMMU_WINDOW_FIXED_BASE;
	rc = iommufd_ioas_create_window(ctl->fd, ioas, flags, attrs, &base,
					length, &page_size);
	if (!rc) {
		out_hex(ctl, "base", base);
		out_hex(ctl, "length", length);
		out_hex(ctl, "page_size", page_size);
	}
	return rc;
}

static int cmd_window_remove(struct ctl *ctl, struct ctl_args *a)
{
	__u64 base, unmapped;
	__u32 ioas;
	int rc;

	if (parse_u32(ctl, "IOAS", a->argv[0], &ioas) ||
	    parse_u64(ctl, "BASE", a->argv[1], &base))
		return CTL_USAGE;
	rc = iommufd_ioas_remove_window(ctl->fd, ioas, base, &unmapped);
	if (!rc)
		out_hex(ctl, "unmapped", unmapped);
	return rc;
}

static int cmd_window_list(struct ctl *ctl, struct ctl_args *a)
{
	struct iommu_ioas_window *windows = NULL;
	__u32 ioas, num = 0, room = 0, i;
	char names[64];
	int rc;

	if (parse_u32(ctl, "IOAS", a->argv[0], &ioas))
		return CTL_USAGE;
	while ((rc = iommufd_ioas_list_windows(ctl->fd, ioas, windows,
					       &num)) == -EMSGSIZE) {
		free(windows);
		room = num;
		windows = calloc(room, sizeof(*windows));
		if (!windows)
			abort();
	}
	if (!rc) {
		out_dec(ctl, "count", num);
		out_list(ctl, "window");
		for (i = 0; i < num && i < room; i++) {
			out_item(ctl);
			out_hex(ctl, "base", windows[i].base);
			out_hex(ctl, "length", windows[i].length);
			out_hex(ctl, "page_size", windows[i].page_size);
			out_str(ctl, "attrs", flag_names(window_attrs,
							 windows[i].attrs,
							 names, sizeof(names)));
		}
	}
	free(windows);
	return rc;
}

static int cmd_device_add(struct ctl *ctl, struct ctl_args *a)
{
	__u32 pt, flags, stdev, hwpt, idev;
	bool new_ioas = !opt(a, "pt");
	int rc;

	if (flag_words(ctl, "KIND", a, 0, device_flags, &flags) ||
	    (opt(a, "pt") && parse_u32(ctl, "pt", opt(a, "pt"), &pt)))
		return CTL_USAGE;
	/* Without pt=, the device gets an IOAS of its own. */
	if (new_ioas) {
		rc = iommufd_ioas_alloc(ctl->fd, &pt);
		if (rc)
			return rc;
	}
	rc = iommufd_test_mock_domain(ctl->fd, pt, flags, &stdev, &hwpt,
				      &idev);
	if (rc) {
		if (new_ioas)
			iommufd_destroy(ctl->fd, pt);
		return rc;
	}
	out_dec(ctl, "stdev", stdev);
	out_dec(ctl, "hwpt", hwpt);
	out_dec(ctl, "idev", idev);
	if (new_ioas)
		out_dec(ctl, "ioas", pt);
	return 0;
}

static int cmd_device_replace(struct ctl *ctl, struct ctl_args *a)
{
	__u32 stdev, pt;
	int rc;

	if (parse_u32(ctl, "STDEV", a->argv[0], &stdev) ||
	    parse_u32(ctl, "PT", a->argv[1], &pt))
		return CTL_USAGE;
	rc = iommufd_test_mock_domain_replace(ctl->fd, stdev, &pt);
	if (!rc)
		out_dec(ctl, "hwpt", pt);
	return rc;
}

static int cmd_device_resv(struct ctl *ctl, struct ctl_args *a)
{
	__u64 start, length;
	__u32 stdev;

	if (parse_u32(ctl, "STDEV", a->argv[0], &stdev) ||
	    parse_u64(ctl, "START", a->argv[1], &start) ||
	    parse_u64(ctl, "LENGTH", a->argv[2], &length))
		return CTL_USAGE;
	return iommufd_test_mock_device_add_resv(ctl->fd, stdev, start, length);
}

static int cmd_check_map(struct ctl *ctl, struct ctl_args *a)
{
	__u64 iova, length, room;
	__u32 hwpt;
	void *buf;

	if (parse_u32(ctl, "HWPT", a->argv[0], &hwpt) ||
	    parse_u64(ctl, "IOVA", a->argv[1], &iova) ||
	    parse_buf(ctl, "BUF", a->argv[2], &buf, &room) ||
	    parse_u64(ctl, "LENGTH", a->argv[3], &length) ||
	    check_room(ctl, length, room))
		return CTL_USAGE;
	return iommufd_test_md_check_map(ctl->fd, hwpt, iova, buf, length);
}

static int cmd_iopte_stats(struct ctl *ctl, struct ctl_args *a)
{
	struct iommu_test_iopte_stats stats;
	__u64 iova, length;
	__u32 hwpt;
	int rc;

	if (parse_u32(ctl, "HWPT", a->argv[0], &hwpt) ||
	    parse_u64(ctl, "IOVA", a->argv[1], &iova) ||
	    parse_u64(ctl, "LENGTH", a->argv[2], &length))
		return CTL_USAGE;
	rc = iommufd_test_md_iopte_stats(ctl->fd, hwpt, iova, length, &stats);
	if (!rc) {
		out_dec(ctl, "small", stats.small);
		out_dec(ctl, "huge", stats.huge);
		out_hex(ctl, "unmapped", stats.unmapped);
	}
	return rc;
}

static int cmd_fail_nth(struct ctl *ctl, struct ctl_args *a)
{
	__u32 nth, kinds, fired, seen;
	int rc;

	if (parse_u32(ctl, "NTH", a->argv[0], &nth) ||
	    flag_opt(ctl, a, "kinds", fault_kinds, &kinds))
		return CTL_USAGE;
	if (!opt(a, "kinds") && nth)
		kinds = MOCK_FAULT_ALL;
	rc = iommufd_test_fail_nth(ctl->fd, nth, kinds, &fired, &seen);
	if (!rc) {
		out_dec(ctl, "fired", fired);
		out_dec(ctl, "seen", seen);
	}
	return rc;
}

/*
 * One statement of "batch": a command that sends one command struct,
 * run with the ring deferring, so that it queues instead of sending.
 * -EINPROGRESS when queued; CTL_USAGE after ctl_usage().
 */
static int batch_queue(struct ctl *ctl, const char *text,
		       const struct ctl_cmd **cmdp)
{
	char *words[CTL_MAX_WORDS];
	const struct ctl_cmd *cmd;
	struct ctl_args args;
	int n, used, rc;

	n = parse_words(ctl, text, words, CTL_MAX_WORDS);
	if (n < 0)
		return -n;
	if (!n) {
		rc = ctl_usage(ctl, "an empty statement");
		goto out;
	}
	cmd = cmd_find(words, n, &used);
	if (!cmd || !(cmd->needs & CMD_BATCH)) {
		rc = ctl_usage(ctl, "'%s' cannot be batched (see 'help batch')",
			       text);
		goto out;
	}
	rc = parse_args(ctl, cmd, words + used, n - used, &args);
	if (!rc)
		rc = cmd->run(ctl, &args);
	/* Failed before it reached the ring: a bad argument. */
	if (rc != -EINPROGRESS && rc != CTL_USAGE)
		rc = ctl_usage(ctl, "'%s': %s before it was queued", text,
			       errno_name(-rc));
	*cmdp = cmd;
out:
	free_words(words, n);
	return rc;
}

static int cmd_batch(struct ctl *ctl, struct ctl_args *a)
{
	const struct ctl_cmd *cmds[CTL_MAX_WORDS];
	int res[CTL_MAX_WORDS], i, rc, first = 0;
	unsigned int failed = 0;

	rc = ctl_ring(ctl);
	if (rc)
		return rc;
	iommufd_uring_route(ctl->ring);
	iommufd_uring_defer(ctl->ring, true);
	for (i = 0, rc = -EINPROGRESS; i < a->argc && rc == -EINPROGRESS; i++)
		rc = batch_queue(ctl, a->argv[i], &cmds[i]);
	iommufd_uring_defer(ctl->ring, false);
	iommufd_uring_route(ctl->uring ? ctl->ring : NULL);
	if (rc != -EINPROGRESS) {
		iommufd_uring_discard(ctl->ring);
		return rc;
	}
	/* One system call for all of them. */
	rc = iommufd_uring_submit(ctl->ring, res);
	if (rc < 0)
		return rc;
	for (i = 0; i < a->argc; i++) {
		if (res[i] && !failed++)
			first = res[i];
	}
	out_dec(ctl, "count", a->argc);
	out_dec(ctl, "failed", failed);
	out_list(ctl, "result");
	for (i = 0; i < a->argc; i++) {
		out_item(ctl);
		out_str(ctl, "status", res[i] ? errno_name(-res[i]) : "ok");
		out_str(ctl, "cmd", cmds[i]->name);
	}
	return first;
}

static int cmd_mem(struct ctl *ctl, struct ctl_args *a)
{
	struct ctl_mem *mem;
	__u64 size;
	int rc;

	if (parse_u64(ctl, "SIZE", a->argv[1], &size))
		return CTL_USAGE;
	rc = mem_alloc(ctl, a->argv[0], size, a->argc > 2 ? a->argv[2] : "4k",
		       &mem);
	if (rc)
		return rc;
	out_hex(ctl, "addr", (uintptr_t)mem->addr);
	out_str(ctl, "name", mem->name);
	out_hex(ctl, "size", mem->size);
	out_str(ctl, "kind", mem->kind);
	return 0;
}

static int cmd_fill(struct ctl *ctl, struct ctl_args *a)
{
	__u64 length, room;
	__u32 byte;
	void *buf;

	if (parse_buf(ctl, "BUF", a->argv[0], &buf, &room) ||
	    parse_u64(ctl, "LENGTH", a->argv[1], &length) ||
	    parse_u32(ctl, "BYTE", a->argv[2], &byte))
		return CTL_USAGE;
	if (room == UINT64_MAX)
		return ctl_usage(ctl, "BUF: fill writes only into 'mem' buffers");
	if (check_room(ctl, length, room))
		return CTL_USAGE;
	if (byte > 0xff)
		return ctl_usage(ctl, "BYTE: 0x%x is more than 0xff", byte);
	memset(buf, byte, length);
	return 0;
}

static int cmd_dump(struct ctl *ctl, struct ctl_args *a)
{
	__u64 length, room, i;
	unsigned char *buf;
	char hex[2 * 4096 + 1];

	if (parse_buf(ctl, "BUF", a->argv[0], (void **)&buf, &room) ||
	    parse_u64(ctl, "LENGTH", a->argv[1], &length))
		return CTL_USAGE;
	if (room == UINT64_MAX)
		return ctl_usage(ctl, "BUF: dump reads only 'mem' buffers");
	if (check_room(ctl, length, room))
		return CTL_USAGE;
	if (length > 4096)
		return ctl_usage(ctl, "LENGTH: dump shows at most 4k");
	for (i = 0; i < length; i++)
		snprintf(hex + 2 * i, 3, "%02x", buf[i]);
	hex[2 * length] = 0;
	out_str(ctl, "hex", hex);
	return 0;
}

static char *join(int argc, char **argv)
{
	size_t len = 0;
	FILE *f;
	int i;

	free(text_buf);
	f = open_memstream(&text_buf, &len);
	if (!f)
		abort();
	for (i = 0; i < argc; i++)
		fprintf(f, "%s%s", i ? " " : "", argv[i]);
	fclose(f);
	return text_buf;
}

static int cmd_echo(struct ctl *ctl, struct ctl_args *a)
{
	out_text(ctl, join(a->argc, a->argv));
	return 0;
}

/* CMD of "raw": a name from ioctls[], an ioctl number or a request. */
static int raw_request(struct ctl *ctl, const char *s, unsigned long *req)
{
	char name[64];
	__u64 v;
	size_t i;

	if (!strncasecmp(s, "IOMMU_", 6))
		s += 6;
	for (i = 0; s[i] && i < sizeof(name) - 1; i++)
		name[i] = tolower((unsigned char)s[i]);
	name[i] = 0;
	if (isdigit((unsigned char)*s)) {
		if (parse_u64(ctl, "CMD", s, &v))
			return CTL_USAGE;
		*req = v <= 0xff ? (unsigned long)_IO(IOMMUFD_TYPE, v) : v;
		return 0;
	}
	for (i = 0; ioctls[i].name; i++) {
		if (!strcmp(ioctls[i].name, name)) {
			*req = ioctls[i].value;
			return 0;
		}
	}
	return ctl_usage(ctl, "CMD: '%s' is not an ioctl (try ioas_map, IOMMU_IOAS_MAP, 0x85)",
			 s);
}

static unsigned int hex_digit(char c)
{
	return isdigit((unsigned char)c) ? c - '0' :
					    tolower((unsigned char)c) - 'a' + 10;
}

static int cmd_raw(struct ctl *ctl, struct ctl_args *a)
{
	static unsigned char buf[65536];
	char hex[2 * 4096 + 1];
	unsigned long req = 0;
	size_t len = 0, i;
	const char *p;
	int w, rc;

	if (raw_request(ctl, a->argv[0], &req))
		return CTL_USAGE;
	memset(buf, 0, sizeof(buf));
	for (w = 1; w < a->argc; w++) {
		for (p = a->argv[w]; *p; p += 2) {
			p += strspn(p, " \t");
			if (!*p)
				break;
			if (!isxdigit((unsigned char)p[0]) ||
			    !isxdigit((unsigned char)p[1]))
				return ctl_usage(ctl, "HEX: '%s' is not pairs of hex digits",
						 a->argv[w]);
			if (len == 4096)
				return ctl_usage(ctl, "HEX: more than 4096 bytes");
			buf[len++] = hex_digit(p[0]) << 4 | hex_digit(p[1]);
		}
	}
	rc = iommufd_ioctl(ctl->fd, req, buf);
	for (i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", buf[i]);
	hex[2 * len] = 0;
	out_str(ctl, "out", hex);
	return rc;
}

static int cmd_help(struct ctl *ctl, struct ctl_args *a);

static int cmd_quit(struct ctl *ctl, struct ctl_args *a)
{
	ctl->quit = true;
	return 0;
}

#define NEEDS_FD CMD_NEEDS_FD
#define NEEDS_TEST (CMD_NEEDS_FD | CMD_NEEDS_TEST)
#define BATCH CMD_BATCH

const struct ctl_cmd ctl_cmds[] = {
	/* Upstream ioctls, in uapi order. */
	{ "destroy", NULL, "ID", "IOMMU_DESTROY",
	  "destroy an object (an IOAS, HWPT or mock device)\n"
	  "Its ID is free for reuse afterwards. EBUSY while another object\n"
	  "depends on it.\n",
	  NEEDS_FD | BATCH, cmd_destroy },
	{ "ioas alloc", NULL, "[windowed]", "IOMMU_IOAS_ALLOC",
	  "create an I/O address space; prints its ID\n"
	  "windowed (extension): it has no usable IOVA until 'window create'\n"
	  "makes some, each window with its own page size.\n",
	  NEEDS_FD, cmd_ioas_alloc },
	{ "ioas map", "map", "IOAS BUF LENGTH [iova=IOVA] [flags=FLAGS]",
	  "IOMMU_IOAS_MAP",
	  "map memory into an IOAS; prints the IOVA\n"
	  "Maps LENGTH bytes at BUF: NAME[+OFFSET] of a 'mem' buffer, or an\n"
	  "address. Without iova= the kernel picks the IOVA. FLAGS: read,\n"
	  "write, fixed (or numbers), joined by ','; default read,write, and\n"
	  "iova= adds fixed.\n",
	  NEEDS_FD | BATCH, cmd_ioas_map },
	{ "ioas unmap", "unmap", "IOAS [IOVA LENGTH]", "IOMMU_IOAS_UNMAP",
	  "unmap a range; prints how many bytes were unmapped\n"
	  "Without IOVA and LENGTH, unmaps everything. Mappings go whole: a\n"
	  "range that cuts one fails with ENOENT.\n",
	  NEEDS_FD | BATCH, cmd_ioas_unmap },
	{ "ioas copy", "copy",
	  "SRC SRC_IOVA LENGTH DST [iova=IOVA] [flags=FLAGS]",
	  "IOMMU_IOAS_COPY",
	  "map pages of one IOAS into another; prints the IOVA\n"
	  "Maps into IOAS DST the pages mapped at SRC_IOVA in IOAS SRC. They\n"
	  "are shared, not pinned again. iova= and flags= as for 'ioas map'.\n",
	  NEEDS_FD | BATCH, cmd_ioas_copy },
	{ "ioas ranges", NULL, "IOAS", "IOMMU_IOAS_IOVA_RANGES",
	  "list the usable IOVA ranges and the alignment\n",
	  NEEDS_FD, cmd_ioas_ranges },
	{ "ioas allow", NULL, "IOAS [RANGE...]", "IOMMU_IOAS_ALLOW_IOVAS",
	  "set the IOVA ranges to pick from and to keep usable\n"
	  "RANGE is START-LAST, both inclusive (0x100000-0x1fffff). No\n"
	  "RANGE clears the list.\n",
	  NEEDS_FD, cmd_ioas_allow },
	{ "option get", NULL, "OPTION [object=ID]", "IOMMU_OPTION",
	  "read an option\n"
	  "OPTION: rlimit_mode (global), huge_pages (object=IOAS).\n",
	  NEEDS_FD, cmd_option_get },
	{ "option set", NULL, "OPTION VALUE [object=ID]", "IOMMU_OPTION",
	  "change an option\n"
	  "rlimit_mode: 0 charges pins to the user, 1 to the process (needs\n"
	  "CAP_SYS_RESOURCE and no objects). huge_pages: 0 or 1, per IOAS.\n",
	  NEEDS_FD | BATCH, cmd_option_set },
	{ "hwpt alloc", NULL, "DEV IOAS [flags=FLAGS]", "IOMMU_HWPT_ALLOC",
	  "create an HW page table for a device, mirroring an IOAS\n"
	  "DEV is a bound device ('device add' prints it as idev). Prints\n"
	  "the HWPT's ID, to attach with 'device replace'. FLAGS:\n"
	  "nest_parent, dirty_tracking, fault_id_valid (no backend of this\n"
	  "module has them yet: EOPNOTSUPP).\n",
	  NEEDS_FD, cmd_hwpt_alloc },
	{ "hw-info", NULL, "DEV", "IOMMU_GET_HW_INFO",
	  "describe the IOMMU behind a device\n"
	  "Prints every out field: the data's type and length, PASID bits,\n"
	  "capabilities, then the driver's data (the mock IOMMU's test_reg,\n"
	  "VT-d's registers, else its bytes in hex).\n",
	  NEEDS_FD, cmd_hw_info },

	/* Extension (not upstream): IOVA windows of a windowed IOAS. */
	{ "window create", NULL,
	  "IOAS LENGTH [base=BASE] [page_size=SIZE] [attrs=ATTRS]",
	  "IOMMU_IOAS_CREATE_WINDOW",
	  "make IOVA usable in a windowed IOAS; prints the window\n"
	  "Without base= the kernel picks the lowest base that fits; without\n"
	  "page_size= the smallest size every attached IOMMU supports.\n"
	  "ATTRS: exact (IOPTEs of exactly the page size).\n",
	  NEEDS_FD | BATCH, cmd_window_create },
	{ "window remove", NULL, "IOAS BASE", "IOMMU_IOAS_REMOVE_WINDOW",
	  "remove a window and its mappings; prints the bytes unmapped\n",
	  NEEDS_FD | BATCH, cmd_window_remove },
	{ "window list", NULL, "IOAS", "IOMMU_IOAS_LIST_WINDOWS",
	  "list the windows of a windowed IOAS\n",
	  NEEDS_FD, cmd_window_list },
	{ "vfio-link", NULL, "CONTAINER_FD", "IOMMU_VFIO_LINK",
	  "link this fd to a VFIO container of our backend (extension)\n"
	  "CONTAINER_FD: a descriptor of this process holding a container\n"
	  "with its IOMMU set. The fd must be new; every command then acts\n"
	  "on the container's objects. Prints its IOAS and device IDs.\n",
	  NEEDS_FD, cmd_vfio_link },

	/* Test ops: IOMMU_TEST_CMD of a test build. */
	{ "reserve", NULL, "IOAS START LENGTH",
	  "IOMMU_TEST_OP_ADD_RESERVED",
	  "reserve IOVA, as a device's reserved region does\n",
	  NEEDS_TEST | BATCH, cmd_reserve },
	{ "device add", NULL, "[KIND...] [pt=ID]",
	  "IOMMU_TEST_OP_MOCK_DOMAIN(_FLAGS)",
	  "bind a mock device and attach it; prints its IDs\n"
	  "It attaches to pt= (an IOAS or HWPT), or else to a new IOAS of\n"
	  "its own (printed as ioas). Prints stdev (the device object:\n"
	  "'destroy' it to unbind), hwpt (what it is attached to) and idev\n"
	  "(the bound device, for 'hw-info' and 'hwpt alloc'). KIND: huge\n"
	  "(its IOMMU also has 256-page IOPTEs), nodirty.\n",
	  NEEDS_TEST, cmd_device_add },
	{ "device replace", NULL, "STDEV PT",
	  "IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE",
	  "attach a mock device to another IOAS or HWPT; prints the HWPT\n",
	  NEEDS_TEST, cmd_device_replace },
	{ "device resv", NULL, "STDEV START LENGTH",
	  "IOMMU_TEST_OP_MOCK_DEVICE_ADD_RESV",
	  "give a mock device a reserved IOVA region (extension)\n"
	  "It applies to the IOAS the device is attached to at once:\n"
	  "EADDRINUSE if that maps or allows IOVA there.\n",
	  NEEDS_TEST | BATCH, cmd_device_resv },
	{ "check-map", NULL, "HWPT IOVA BUF LENGTH",
	  "IOMMU_TEST_OP_MD_CHECK_MAP",
	  "check that a mock HWPT translates IOVA to BUF's memory\n"
	  "Fails with EINVAL where it does not. IOVA, BUF and LENGTH are\n"
	  "multiples of half a page.\n",
	  NEEDS_TEST | BATCH, cmd_check_map },
	{ "iopte-stats", NULL, "HWPT IOVA LENGTH",
	  "IOMMU_TEST_OP_MD_IOPTE_STATS",
	  "count a mock HWPT's IOPTEs over a range (extension)\n"
	  "Prints the small (half-page) and huge (256-page) IOPTEs that\n"
	  "overlap it, and the bytes nothing translates.\n",
	  NEEDS_TEST, cmd_iopte_stats },
	{ "fail-nth", NULL, "NTH [kinds=KINDS]", "IOMMU_TEST_OP_FAIL_NTH",
	  "make the NTH fault event fail once (extension); 0 disarms\n"
	  "Counts the events of KINDS (alloc, pin, copy, map, all; default\n"
	  "all) in this process. Prints what the previous setting did:\n"
	  "fired (1 if it failed an event) and seen (events counted).\n",
	  NEEDS_TEST, cmd_fail_nth },
	{ "access create", NULL, "IOAS [flags=FLAGS]",
	  "IOMMU_TEST_OP_CREATE_ACCESS",
	  "create an in-kernel access to an IOAS; prints its fd\n"
	  "FLAGS: pin (it pins pages, and is told to unpin on unmap).\n",
	  NEEDS_TEST, cmd_access_create },
	{ "access pages", NULL, "ACCESS IOVA LENGTH [BUF] [flags=FLAGS]",
	  "IOMMU_TEST_OP_ACCESS_PAGES",
	  "pin a range through an access; prints the pinned item\n"
	  "With BUF, the pages pinned must be those of BUF. FLAGS: write,\n"
	  "syz.\n",
	  NEEDS_TEST, cmd_access_pages },
	{ "access unpin", NULL, "ACCESS PAGES",
	  "IOMMU_TEST_OP_DESTROY_ACCESS_PAGES",
	  "unpin what 'access pages' pinned\n",
	  NEEDS_TEST, cmd_access_unpin },
	{ "access rw", NULL, "ACCESS IOVA BUF LENGTH [flags=FLAGS]",
	  "IOMMU_TEST_OP_ACCESS_RW",
	  "copy between an IOAS and a buffer, as a device does\n"
	  "Reads the IOAS into BUF; with flags=write, writes BUF into the\n"
	  "IOAS. FLAGS: write, slow (page by page), syz.\n",
	  NEEDS_TEST, cmd_access_rw },
	{ "access replace", NULL, "ACCESS IOAS",
	  "IOMMU_TEST_OP_ACCESS_REPLACE_IOAS",
	  "move an access to another IOAS\n",
	  NEEDS_TEST, cmd_access_replace },
	{ "access destroy", NULL, "ACCESS", NULL,
	  "destroy an access by closing its fd\n",
	  NEEDS_TEST, cmd_access_destroy },
	{ "check-refs", NULL, "BUF LENGTH REFS",
	  "IOMMU_TEST_OP_MD_CHECK_REFS",
	  "check that each page of BUF is pinned REFS times\n"
	  "Fails with EIO if one is not. Pages of huge folios are skipped.\n",
	  NEEDS_TEST | BATCH, cmd_check_refs },
	{ "memory-limit", NULL, "BYTES",
	  "IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT",
	  "cap the kernel's temporary page batches (0: default)\n",
	  NEEDS_TEST, cmd_memory_limit },

	/* The session. */
	{ "mem", NULL, "NAME SIZE [KIND]", NULL,
	  "allocate and touch a buffer to map; prints its address\n"
	  "KIND: 4k (the default: THP disabled), thp, hugetlb (needs\n"
	  "/proc/sys/vm/nr_hugepages), memfd. Arguments name it as\n"
	  "NAME+OFFSET.\n",
	  0, cmd_mem },
	{ "fill", NULL, "BUF LENGTH BYTE", NULL,
	  "set LENGTH bytes of a buffer to BYTE\n",
	  0, cmd_fill },
	{ "dump", NULL, "BUF LENGTH", NULL,
	  "print up to 4k bytes of a buffer in hex\n",
	  0, cmd_dump },
	{ "raw", NULL, "CMD HEX...", NULL,
	  "send any ioctl with the bytes given; prints them after\n"
	  "CMD is a name (ioas_map, IOMMU_IOAS_MAP, test_cmd), a command\n"
	  "number (0x85) or a full request. HEX is the payload, size field\n"
	  "included, as hex byte pairs; spaces between words are ignored.\n",
	  NEEDS_FD, cmd_raw },
	{ "batch", NULL, "STATEMENT...", NULL,
	  "send several commands through io_uring with one system call\n"
	  "Each STATEMENT (quoted: 'map $ioas ram 4k iova=0x1000') is one of\n"
	  "destroy, ioas map, ioas unmap, ioas copy, option set, window\n"
	  "create, window remove, reserve, device resv, check-map or\n"
	  "check-refs. All are checked, then sent together; each reports\n"
	  "its status only (out fields such as a map's IOVA do not come\n"
	  "back). Fails with the first failure's errno.\n",
	  NEEDS_FD, cmd_batch },
	{ "echo", NULL, "[TEXT...]", NULL,
	  "print TEXT\n",
	  0, cmd_echo },
	{ "help", NULL, "[COMMAND...]", NULL,
	  "list the commands, or describe one\n",
	  0, cmd_help },
	{ "quit", "exit", "", NULL,
	  "end the session\n",
	  0, cmd_quit },
	{ }
};

static const char help_syntax[] =
	"Statements, one per line or argument:\n"
	"  COMMAND ARGS...           run a command\n"
	"  NAME = COMMAND ARGS...    run it and keep its result in $NAME\n"
	"  NAME=VALUE                set a variable (NAME=$(COMMAND) works too)\n"
	"  expect ERRNO COMMAND...   the command must fail with ERRNO (EEXIST)\n"
	"  # comment\n"
	"Values: numbers in decimal or 0x hex, with k M G T suffixes (4k, 2M)\n"
	"and + sums (0x100000+4k); max is 2^64-1. $NAME, ${NAME} and $(COMMAND)\n"
	"expand; $last is the result (first field) of the last command.\n";

/*
 * Every command, one per call: this file's table, then vfio.c's. NULL
 * starts; NULL after the last.
 */
const struct ctl_cmd *cmd_next(const struct ctl_cmd *cmd)
{
	if (!cmd)
		return ctl_cmds;
	cmd++;
	if (!cmd->name && cmd == &ctl_cmds[ARRAY_SIZE(ctl_cmds) - 1])
		cmd = vfio_cmds;
	return cmd->name ? cmd : NULL;
}

/* The words of @words that name a command, and the command. */
const struct ctl_cmd *cmd_find(char **words, int n, int *used)
{
	const struct ctl_cmd *cmd;
	size_t len;

	for (cmd = cmd_next(NULL); cmd; cmd = cmd_next(cmd)) {
		len = strcspn(cmd->name, " ");
		if (!cmd->name[len] && !strcmp(words[0], cmd->name)) {
			*used = 1;
			return cmd;
		}
		if (cmd->name[len] && n > 1 &&
		    !strncmp(words[0], cmd->name, len) && !words[0][len] &&
		    !strcmp(words[1], cmd->name + len + 1)) {
			*used = 2;
			return cmd;
		}
		if (cmd->alias && !strcmp(words[0], cmd->alias)) {
			*used = 1;
			return cmd;
		}
	}
	return NULL;
}

static void help_list(FILE *f, const struct ctl_cmd *cmd, unsigned int test)
{
	for (; cmd->name; cmd++)
		if ((cmd->needs & CMD_NEEDS_TEST) == test)
			fprintf(f, "  %-16s %.*s\n", cmd->name,
				(int)strcspn(cmd->help, "\n"), cmd->help);
}

static int cmd_help(struct ctl *ctl, struct ctl_args *a)
{
	const struct ctl_cmd *cmd = NULL;
	size_t len = 0;
	int used;
	FILE *f;

	if (a->argc) {
		cmd = cmd_find(a->argv, a->argc, &used);
		if (!cmd || used != a->argc)
			return ctl_usage(ctl, "no command '%s' (try 'help')",
					 join(a->argc, a->argv));
	}
	free(text_buf);
	f = open_memstream(&text_buf, &len);
	if (!f)
		abort();
	if (a->argc) {
		fprintf(f, "usage: %s%s%s\n", cmd->name, *cmd->args ? " " : "",
			cmd->args);
		if (cmd->alias)
			fprintf(f, "alias: %s\n", cmd->alias);
		if (cmd->ioctl)
			fprintf(f, "issues: %s%s\n", cmd->ioctl,
				cmd->needs & CMD_NEEDS_TEST ?
				" (test build only)" : "");
		fprintf(f, "%s", cmd->help);
	} else {
		fputs("Commands ('help COMMAND' for one):\n", f);
		help_list(f, ctl_cmds, 0);
		fputs("Real devices (VFIO containers, /dev/vfio):\n", f);
		help_list(f, vfio_cmds, 0);
		fputs("Test build only (IOMMU_TEST_CMD):\n", f);
		help_list(f, ctl_cmds, CMD_NEEDS_TEST);
		fputs(help_syntax, f);
	}
	fclose(f);
	/* Without the final newline: the output adds one. */
	if (len && text_buf[len - 1] == '\n')
		text_buf[len - 1] = 0;
	out_text(ctl, text_buf);
	return 0;
}
