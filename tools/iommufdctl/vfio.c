// SPDX-License-Identifier: GPL-2.0
/*
 * Real devices by hand: a VFIO group and container opened by a device's
 * PCI address, the container's type1 ioctls (GET_INFO, MAP_DMA,
 * UNMAP_DMA), and the DMA engine of QEMU's edu device, so that an
 * engineer can watch a device's DMA go through (or be stopped by) an
 * IOMMU domain that our VFIO backend, iommufd_oot_vfio.ko, fills.
 *
 * Nothing here needs /dev/iommu: the container is VFIO's, and whichever
 * VFIO IOMMU driver takes its type serves it ("backend=" says which).
 *
 * These commands are a table of their own (vfio_cmds), which commands.c
 * lists after its own. Containers and devices are named by their fds,
 * devices also by their PCI address; they last until "vfio-close" or the
 * end of the session.
 *
 * edu (QEMU's hw/misc/edu.c, PCI 1234:11e8): BAR0 holds its registers;
 * 0x00 reads 0x010000ed; the DMA engine takes its source at 0x80, its
 * destination at 0x88, the count at 0x90 and the command at 0x98 (bit 0
 * starts it and is cleared when done, bit 1 set copies the device's
 * buffer to RAM, clear RAM to the buffer). The buffer is 4 KiB at device
 * address 0x40000; bus addresses are masked to 28 bits. A transfer that
 * leaves the buffer, or of no bytes, makes QEMU 7.2 abort the whole VM,
 * so edu-dma refuses both before it touches the device. The engine
 * finishes whether or not the IOMMU let the transfer through: only the
 * memory tells, hence the pattern and the sentinel.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "iommufdctl.h"
#include "output.h"
#include "parse.h"
#include "session.h"
#include "vfio.h"

#define PCI_DEVICES "/sys/bus/pci/devices"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_REG_ID 0x00
#define EDU_ID_VALUE 0x010000edU
#define EDU_REG_DMA_SRC 0x80
#define EDU_REG_DMA_DST 0x88
#define EDU_REG_DMA_CNT 0x90
#define EDU_REG_DMA_CMD 0x98
#define EDU_DMA_START 0x1
#define EDU_DMA_TO_RAM 0x2
#define EDU_BUF 0x40000UL
#define EDU_BAR_SIZE 0x100000UL
/* Half the buffer: every transfer stays strictly inside it (see above). */
#define EDU_MAX_XFER 2048UL
#define EDU_DMA_LIMIT 0x10000000ULL
#define EDU_DMA_TIMEOUT_MS 10000
/* What edu-dma writes at DST first; a blocked write leaves it there. */
#define EDU_SENTINEL 0xa5

/* A mapping this session made through a container, for edu-dma. */
struct vfio_map {
	struct vfio_map *next;
	__u64 iova;
	__u64 length;
	void *va;
};

/* A container of this session, named by its fd. */
struct vfio_container {
	struct vfio_container *next;
	int fd;
	unsigned int devices;	/* open devices in it: closed with the last */
	struct vfio_map *maps;
};

/* A device that vfio-open opened, with its group. */
struct vfio_dev {
	struct vfio_dev *next;
	char addr[16];		/* DDDD:BB:DD.F, as sysfs names it */
	int iommu_group;
	int group;		/* fd of /dev/vfio/N */
	int fd;			/* the device fd */
	struct vfio_container *c;
	__u8 *bar;		/* edu's BAR0, mapped by the first edu-dma */
};

struct ctl_vfio {
	struct vfio_container *containers;
	struct vfio_dev *devs;
	unsigned int seed;	/* of edu-dma's next pattern */
};

static const struct ctl_flag vfio_types[] = {
	{ "oot", IOMMUFD_OOT_VFIO_TYPE },
	{ "type1", VFIO_TYPE1_IOMMU },
	{ "type1v2", VFIO_TYPE1v2_IOMMU },
	{ }
};

static const struct ctl_flag dma_map_flags[] = {
	{ "read", VFIO_DMA_MAP_FLAG_READ },
	{ "write", VFIO_DMA_MAP_FLAG_WRITE },
	{ }
};

/* Hints for the causes that a command finds itself. */
static const char hint_no_device[] =
	"no PCI device has that address (see " PCI_DEVICES ")";
static const char hint_no_group[] =
	"the device has no IOMMU group: nothing translates its DMA (intel_iommu=on?)";
static const char hint_not_vfio[] =
	"bind it to vfio-pci: vfio-pci into its driver_override, unbind, drivers_probe";
static const char hint_set_iommu[] =
	"no VFIO IOMMU driver takes this type: load iommufd_oot_vfio (or type1)";
static const char hint_group_busy[] =
	"the group is open already (in this session or by another program)";
static const char hint_not_viable[] =
	"the group is not viable: a device in it has a driver other than vfio-pci";
static const char hint_not_edu[] =
	"edu-dma drives QEMU's edu device (PCI 1234:11e8) only";
static const char hint_blocked[] =
	"DST still holds the sentinel 0xa5: the IOMMU blocked the write (unmapped? read-only?)";
static const char hint_mismatch[] =
	"DST did not get SRC's pattern: the IOMMU blocked the read of SRC (unmapped?)";

static struct ctl_vfio *vfio_state(struct ctl *ctl)
{
	if (!ctl->vfio) {
		ctl->vfio = calloc(1, sizeof(*ctl->vfio));
		if (!ctl->vfio)
			abort();
	}
	return ctl->vfio;
}

/* --- Names: PCI addresses, containers, devices ----------------------- */

/*
 * A PCI address as sysfs spells it, DDDD:BB:DD.F in lower case, into
 * @out (16 bytes); BB:DD.F means domain 0000.
 */
static int parse_pci_addr(struct ctl *ctl, const char *s, char *out)
{
	static const char form[] = "xxxx:xx:xx.x";
	char full[sizeof(form)];
	size_t i;

	if (strlen(s) == strlen(form) - 5)
		snprintf(full, sizeof(full), "0000:%s", s);
	else if (strlen(s) == strlen(form))
		snprintf(full, sizeof(full), "%s", s);
	else
		goto bad;
	for (i = 0; form[i]; i++) {
		if (form[i] == 'x' ? !isxdigit((unsigned char)full[i]) :
				     full[i] != form[i])
			goto bad;
		out[i] = tolower((unsigned char)full[i]);
	}
	out[i] = 0;
	if (out[i - 1] > '7')
		goto bad;
	return 0;
bad:
	return ctl_usage(ctl, "ADDR: '%s' is not a PCI address (DDDD:BB:DD.F, as in %s)",
			 s, PCI_DEVICES);
}

/* The last component of sysfs link @link of device @addr, or "". */
static void link_name(const char *addr, const char *link, char *out,
		      size_t size)
{
	char path[128], target[PATH_MAX];
	const char *slash;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s/%s", PCI_DEVICES, addr, link);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0) {
		out[0] = 0;
		return;
	}
	target[n] = 0;
	slash = strrchr(target, '/');
	slash = slash ? slash + 1 : target;
	n = strnlen(slash, size - 1);
	memcpy(out, slash, n);
	out[n] = 0;
}

/* A hex number in sysfs file @file of device @addr; 0 if unreadable. */
static unsigned long sysfs_hex(const char *addr, const char *file)
{
	char path[128], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", PCI_DEVICES, addr, file);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtoul(buf, NULL, 16);
}

static int find_container(struct ctl *ctl, const char *what, const char *s,
			  struct vfio_container **cp)
{
	struct vfio_container *c;
	__u32 fd;

	if (parse_u32(ctl, what, s, &fd))
		return CTL_USAGE;
	for (c = vfio_state(ctl)->containers; c; c = c->next) {
		if (c->fd == (int)fd) {
			*cp = c;
			return 0;
		}
	}
	return ctl_usage(ctl, "%s: %s is no container of this session (see vfio-open)",
			 what, s);
}

/* DEV: the device fd that vfio-open printed, or the device's address. */
static int find_dev(struct ctl *ctl, const char *s, struct vfio_dev **devp)
{
	struct vfio_dev *dev;
	char addr[16] = "";
	__u32 fd = UINT32_MAX;

	if (strchr(s, ':')) {
		if (parse_pci_addr(ctl, s, addr))
			return CTL_USAGE;
	} else if (parse_u32(ctl, "DEV", s, &fd)) {
		return CTL_USAGE;
	}
	for (dev = vfio_state(ctl)->devs; dev; dev = dev->next) {
		if (dev->fd == (int)fd || !strcmp(dev->addr, addr)) {
			*devp = dev;
			return 0;
		}
	}
	return ctl_usage(ctl, "DEV: %s is no device that 'vfio-open' opened in this session",
			 s);
}

/* --- vfio-open and vfio-close ----------------------------------------- */

/*
 * What sysfs says about @addr before anything is opened: its IOMMU group
 * and its driver. -ENODEV, with the fields found and a hint, if it is no
 * device VFIO can hand out.
 */
static int device_check(struct ctl *ctl, const char *addr, int *group)
{
	char path[128], name[64], driver[64];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", PCI_DEVICES, addr);
	if (stat(path, &st)) {
		out_hint(ctl, hint_no_device);
		return -ENODEV;
	}
	link_name(addr, "iommu_group", name, sizeof(name));
	link_name(addr, "driver", driver, sizeof(driver));
	if (name[0] && !strcmp(driver, "vfio-pci")) {
		*group = atoi(name);
		return 0;
	}
	/* Say what was found, as the error's first line. */
	out_str(ctl, "pci", addr);
	out_str(ctl, "driver", driver[0] ? driver : "none");
	if (!name[0]) {
		out_hint(ctl, hint_no_group);
		return -ENODEV;
	}
	out_dec(ctl, "iommu_group", atoi(name));
	out_hint(ctl, hint_not_vfio);
	return -ENODEV;
}

static int check_extension(int fd, unsigned long ext)
{
	int rc = ioctl(fd, VFIO_CHECK_EXTENSION, ext);

	return rc < 0 ? -errno : rc;
}

/* A new container of @type, with @group in it. */
static int container_new(int group, __u64 type, struct vfio_container **cp)
{
	struct vfio_container *c;
	int fd, rc;

	fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		rc = -EPROTO;
		goto err;
	}
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &fd)) {
		rc = -errno;
		goto err;
	}
	if (ioctl(fd, VFIO_SET_IOMMU, (unsigned long)type)) {
		rc = -errno;
		goto err;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->fd = fd;
	*cp = c;
	return 0;
err:
	close(fd);
	return rc;
}

/* Open @addr's group into a new container or @c; the device's fd. */
static int open_device(struct ctl *ctl, struct vfio_dev *dev, __u64 type,
		       struct vfio_container *c)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[32];
	int rc;

	snprintf(path, sizeof(path), "/dev/vfio/%d", dev->iommu_group);
	dev->group = open(path, O_RDWR | O_CLOEXEC);
	if (dev->group < 0) {
		if (errno == EBUSY)
			out_hint(ctl, hint_group_busy);
		return -errno;
	}
	if (!ioctl(dev->group, VFIO_GROUP_GET_STATUS, &st) &&
	    !(st.flags & VFIO_GROUP_FLAGS_VIABLE))
		out_hint(ctl, hint_not_viable);
	if (c) {
		rc = ioctl(dev->group, VFIO_GROUP_SET_CONTAINER, &c->fd) ?
			-errno : 0;
	} else {
		rc = container_new(dev->group, type, &c);
		if (rc == -ENODEV || rc == -EINVAL)
			out_hint(ctl, hint_set_iommu);
	}
	if (rc)
		goto err;
	dev->c = c;
	dev->fd = ioctl(dev->group, VFIO_GROUP_GET_DEVICE_FD, dev->addr);
	if (dev->fd >= 0)
		return 0;
	rc = -errno;
	if (!c->devices) {
		close(c->fd);
		free(c);
	}
err:
	close(dev->group);
	return rc;
}

static const char *type_name(__u64 type)
{
	const struct ctl_flag *f;

	for (f = vfio_types; f->name; f++)
		if (f->value == type)
			return f->name;
	return NULL;
}

static int cmd_vfio_open(struct ctl *ctl, struct ctl_args *a)
{
	struct ctl_vfio *v = vfio_state(ctl);
	struct vfio_container *c = NULL;
	__u64 type = IOMMUFD_OOT_VFIO_TYPE;
	struct vfio_dev *dev;
	const char *name;
	int rc;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		abort();
	if (parse_pci_addr(ctl, a->argv[0], dev->addr) ||
	    (opt(a, "type") &&
	     parse_flags(ctl, "type", opt(a, "type"), vfio_types, &type)) ||
	    (opt(a, "container") &&
	     find_container(ctl, "container", opt(a, "container"), &c))) {
		free(dev);
		return CTL_USAGE;
	}
	if (c && opt(a, "type")) {
		free(dev);
		return ctl_usage(ctl, "give type= for a new container, or container=, not both");
	}
	rc = device_check(ctl, dev->addr, &dev->iommu_group);
	if (!rc)
		rc = open_device(ctl, dev, type, c);
	if (rc) {
		free(dev);
		return rc;
	}
	if (!c) {
		c = dev->c;
		c->next = v->containers;
		v->containers = c;
	}
	c->devices++;
	dev->next = v->devs;
	v->devs = dev;
	out_dec(ctl, "container", c->fd);
	out_dec(ctl, "device", dev->fd);
	out_dec(ctl, "group", dev->group);
	out_dec(ctl, "iommu_group", dev->iommu_group);
	out_str(ctl, "pci", dev->addr);
	if (!opt(a, "container")) {
		name = type_name(type);
		if (name)
			out_str(ctl, "type", name);
		else
			out_hex(ctl, "type", type);
	}
	/* Once a driver serves it, only that driver answers. */
	out_str(ctl, "backend",
		check_extension(c->fd, IOMMUFD_OOT_VFIO_TYPE) == 1 ?
		"oot" : "other");
	return 0;
}

static void maps_free(struct vfio_container *c)
{
	struct vfio_map *m;

	while ((m = c->maps)) {
		c->maps = m->next;
		free(m);
	}
}

static int cmd_vfio_close(struct ctl *ctl, struct ctl_args *a)
{
	struct ctl_vfio *v = vfio_state(ctl);
	struct vfio_container **cp;
	struct vfio_dev **pp, *dev;
	int closed = 0;

	if (find_dev(ctl, a->argv[0], &dev))
		return CTL_USAGE;
	for (pp = &v->devs; *pp != dev; pp = &(*pp)->next)
		;
	*pp = dev->next;
	if (dev->bar)
		munmap(dev->bar, EDU_BAR_SIZE);
	/* The device before its group, the group before the container. */
	close(dev->fd);
	close(dev->group);
	if (!--dev->c->devices) {
		for (cp = &v->containers; *cp != dev->c; cp = &(*cp)->next)
			;
		*cp = dev->c->next;
		close(dev->c->fd);
		maps_free(dev->c);
		free(dev->c);
		closed = 1;
	}
	free(dev);
	out_dec(ctl, "container_closed", closed);
	return 0;
}

/* --- The container's ioctls ------------------------------------------- */

/*
 * VFIO_IOMMU_GET_INFO with its capabilities: asked with the bare struct,
 * then with the size the kernel wants. A malloc()ed buffer, or NULL.
 */
static struct vfio_iommu_type1_info *get_info(int fd, int *rc)
{
	struct vfio_iommu_type1_info *info;
	__u32 argsz = sizeof(*info);
	int round;

	for (round = 0; round < 2; round++) {
		info = calloc(1, argsz);
		if (!info)
			abort();
		info->argsz = argsz;
		if (ioctl(fd, VFIO_IOMMU_GET_INFO, info)) {
			*rc = -errno;
			free(info);
			return NULL;
		}
		if (info->argsz <= argsz)
			return info;
		argsz = info->argsz;
		free(info);
	}
	*rc = -EMSGSIZE;
	return NULL;
}

/* Capability @id of @info, or NULL; a chain that loops ends the walk. */
static struct vfio_info_cap_header *
info_cap(struct vfio_iommu_type1_info *info, __u16 id)
{
	struct vfio_info_cap_header *hdr;
	__u32 off, prev = 0;

	if (!(info->flags & VFIO_IOMMU_INFO_CAPS))
		return NULL;
	for (off = info->cap_offset; off; off = hdr->next) {
		if (off <= prev || off + sizeof(*hdr) > info->argsz)
			return NULL;
		hdr = (void *)((char *)info + off);
		if (hdr->id == id)
			return hdr;
		prev = off;
	}
	return NULL;
}

static void out_ranges(struct ctl *ctl, struct vfio_iommu_type1_info *info)
{
	struct vfio_iommu_type1_info_cap_iova_range *r;
	__u32 i, room;

	r = (void *)info_cap(info, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	if (!r)
		return;
	room = (info->argsz - ((char *)r->iova_ranges - (char *)info)) /
	       sizeof(r->iova_ranges[0]);
	out_dec(ctl, "count", r->nr_iovas);
	out_list(ctl, "range");
	for (i = 0; i < r->nr_iovas && i < room; i++) {
		out_item(ctl);
		out_hex(ctl, "start", r->iova_ranges[i].start);
		out_hex(ctl, "last", r->iova_ranges[i].end);
	}
}

static int cmd_vfio_info(struct ctl *ctl, struct ctl_args *a)
{
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_iommu_type1_info *info;
	struct vfio_container *c;
	int rc = 0;

	if (find_container(ctl, "CONTAINER", a->argv[0], &c))
		return CTL_USAGE;
	info = get_info(c->fd, &rc);
	if (!info)
		return rc;
	out_hex(ctl, "flags", info->flags);
	out_hex(ctl, "iova_pgsizes", info->iova_pgsizes);
	avail = (void *)info_cap(info, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	if (avail)
		out_dec(ctl, "dma_avail", avail->avail);
	out_str(ctl, "backend",
		check_extension(c->fd, IOMMUFD_OOT_VFIO_TYPE) == 1 ?
		"oot" : "other");
	out_ranges(ctl, info);
	free(info);
	return 0;
}

static int cmd_vfio_map(struct ctl *ctl, struct ctl_args *a)
{
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	__u64 iova, length, room, flags = VFIO_DMA_MAP_FLAG_READ |
					  VFIO_DMA_MAP_FLAG_WRITE;
	struct vfio_container *c;
	struct vfio_map *m;
	void *va;

	if (find_container(ctl, "CONTAINER", a->argv[0], &c) ||
	    parse_u64(ctl, "IOVA", a->argv[1], &iova) ||
	    parse_buf(ctl, "BUF", a->argv[2], &va, &room) ||
	    parse_u64(ctl, "LENGTH", a->argv[3], &length) ||
	    (opt(a, "flags") &&
	     parse_flags(ctl, "flags", opt(a, "flags"), dma_map_flags, &flags)))
		return CTL_USAGE;
	if (length > room)
		return ctl_usage(ctl, "LENGTH: 0x%llx is past the end of the buffer (0x%llx left)",
				 (unsigned long long)length,
				 (unsigned long long)room);
	if (flags > UINT32_MAX)
		return ctl_usage(ctl, "flags: more than 32 bits");
	map.flags = flags;
	map.vaddr = (uintptr_t)va;
	map.iova = iova;
	map.size = length;
	if (ioctl(c->fd, VFIO_IOMMU_MAP_DMA, &map))
		return -errno;
	out_hex(ctl, "iova", iova);
	out_hex(ctl, "length", length);
	/* edu-dma writes where it finds memory: only 'mem' buffers. */
	if (room == UINT64_MAX)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m)
		abort();
	m->iova = iova;
	m->length = length;
	m->va = va;
	m->next = c->maps;
	c->maps = m;
	return 0;
}

/*
 * Forget the mappings an UNMAP_DMA of [@iova, @iova + @length) removed:
 * those that start inside it (TYPE1v2 refuses to cut one; TYPE1 removes
 * whole every mapping that starts inside the range).
 */
static void maps_forget(struct vfio_container *c, __u64 iova, __u64 length)
{
	struct vfio_map **pp = &c->maps, *m;

	while ((m = *pp)) {
		if (m->iova >= iova && m->iova - iova < length) {
			*pp = m->next;
			free(m);
		} else {
			pp = &m->next;
		}
	}
}

static int cmd_vfio_unmap(struct ctl *ctl, struct ctl_args *a)
{
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	struct vfio_container *c;

	if (find_container(ctl, "CONTAINER", a->argv[0], &c))
		return CTL_USAGE;
	if (a->argc == 2)
		return ctl_usage(ctl, "give both IOVA and LENGTH, or neither");
	if (a->argc == 3 &&
	    (parse_u64(ctl, "IOVA", a->argv[1], (__u64 *)&unmap.iova) ||
	     parse_u64(ctl, "LENGTH", a->argv[2], (__u64 *)&unmap.size)))
		return CTL_USAGE;
	if (a->argc == 1)
		unmap.flags = VFIO_DMA_UNMAP_FLAG_ALL;
	if (ioctl(c->fd, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return -errno;
	if (a->argc == 1)
		maps_forget(c, 0, UINT64_MAX);
	else
		maps_forget(c, unmap.iova, unmap.size ? unmap.size : 1);
	out_hex(ctl, "unmapped", unmap.size);
	return 0;
}

/* --- edu's DMA engine -------------------------------------------------- */

/*
 * Register accesses: relaxed atomics are single loads and stores of the
 * register's width, which the compiler may neither drop nor merge.
 */
static __u64 edu_read64(struct vfio_dev *dev, unsigned int reg)
{
	return __atomic_load_n((__u64 *)(dev->bar + reg), __ATOMIC_RELAXED);
}

static void edu_write64(struct vfio_dev *dev, unsigned int reg, __u64 val)
{
	__atomic_store_n((__u64 *)(dev->bar + reg), val, __ATOMIC_RELAXED);
}

static int region_info(int fd, __u32 index, struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	return ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, ri) ? -errno : 0;
}

/* Memory decoding and bus mastering on, through VFIO's config region. */
static int enable_master(struct vfio_dev *dev)
{
	struct vfio_region_info cfg;
	__u16 cmd;
	int rc;

	rc = region_info(dev->fd, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
	if (rc)
		return rc;
	if (pread(dev->fd, &cmd, sizeof(cmd), cfg.offset + PCI_COMMAND) !=
	    sizeof(cmd))
		return -EIO;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(dev->fd, &cmd, sizeof(cmd), cfg.offset + PCI_COMMAND) !=
	    sizeof(cmd))
		return -EIO;
	return 0;
}

/* BAR0 mapped and bus mastering on, once per device; 0 or -errno. */
static int edu_setup(struct ctl *ctl, struct vfio_dev *dev)
{
	struct vfio_region_info bar;
	void *p;
	int rc;

	if (dev->bar)
		return 0;
	if (sysfs_hex(dev->addr, "vendor") != EDU_VENDOR ||
	    sysfs_hex(dev->addr, "device") != EDU_DEVICE) {
		out_hint(ctl, hint_not_edu);
		return -ENODEV;
	}
	rc = region_info(dev->fd, VFIO_PCI_BAR0_REGION_INDEX, &bar);
	if (rc)
		return rc;
	if (bar.size != EDU_BAR_SIZE ||
	    !(bar.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		out_hint(ctl, hint_not_edu);
		return -ENODEV;
	}
	p = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd,
		 bar.offset);
	if (p == MAP_FAILED)
		return -errno;
	dev->bar = p;
	rc = enable_master(dev);
	if (!rc && __atomic_load_n((__u32 *)(dev->bar + EDU_REG_ID),
				   __ATOMIC_RELAXED) != EDU_ID_VALUE) {
		out_hint(ctl, hint_not_edu);
		rc = -ENODEV;
	}
	if (rc) {
		munmap(dev->bar, EDU_BAR_SIZE);
		dev->bar = NULL;
	}
	return rc;
}

static __u64 ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* One transfer of the engine, waited for: 0 or -ETIMEDOUT. */
static int edu_transfer(struct vfio_dev *dev, __u64 src, __u64 dst,
			__u64 len, __u64 cmd)
{
	__u64 deadline = ms_now() + EDU_DMA_TIMEOUT_MS;

	edu_write64(dev, EDU_REG_DMA_SRC, src);
	edu_write64(dev, EDU_REG_DMA_DST, dst);
	edu_write64(dev, EDU_REG_DMA_CNT, len);
	edu_write64(dev, EDU_REG_DMA_CMD, cmd | EDU_DMA_START);
	while (edu_read64(dev, EDU_REG_DMA_CMD) & EDU_DMA_START) {
		if (ms_now() > deadline)
			return -ETIMEDOUT;
		usleep(1000);
	}
	return 0;
}

/* A byte of pattern @seed at @pos, never the sentinel. */
static __u8 pattern_byte(__u64 pos, unsigned int seed)
{
	__u32 x = (__u32)pos * 2654435761U + seed * 40503U;
	__u8 b = (x >> 13) ^ (x >> 24);

	return b == EDU_SENTINEL ? b ^ 0xff : b;
}

/*
 * The memory behind @iova for @len bytes: the buffer option @key names,
 * or what this session mapped there through the device's container.
 */
static int dma_memory(struct ctl *ctl, struct ctl_args *a, const char *key,
		      struct vfio_dev *dev, __u64 iova, __u64 len, __u8 **p)
{
	struct vfio_map *m;
	__u64 room;
	void *va;

	if (opt(a, key)) {
		if (parse_buf(ctl, key, opt(a, key), &va, &room))
			return CTL_USAGE;
		if (room == UINT64_MAX)
			return ctl_usage(ctl, "%s: name a 'mem' buffer, not an address",
					 key);
		if (len > room)
			return ctl_usage(ctl, "%s: 0x%llx bytes are past the end of the buffer",
					 key, (unsigned long long)len);
		*p = va;
		return 0;
	}
	for (m = dev->c->maps; m; m = m->next) {
		if (iova >= m->iova && iova - m->iova <= m->length - len) {
			*p = (__u8 *)m->va + (iova - m->iova);
			return 0;
		}
	}
	return ctl_usage(ctl, "%s: this session mapped nothing at 0x%llx+0x%llx: say %s=BUF",
			 key, (unsigned long long)iova,
			 (unsigned long long)len, key);
}

static int edu_args(struct ctl *ctl, struct ctl_args *a, __u64 *src,
		    __u64 *dst, __u64 *len)
{
	if (parse_u64(ctl, "SRC", a->argv[1], src) ||
	    parse_u64(ctl, "DST", a->argv[2], dst) ||
	    parse_u64(ctl, "LENGTH", a->argv[3], len))
		return CTL_USAGE;
	if (!*len || *len > EDU_MAX_XFER)
		return ctl_usage(ctl, "LENGTH: edu copies 1 to %lu bytes at once",
				 EDU_MAX_XFER);
	if (*src > EDU_DMA_LIMIT - *len || *dst > EDU_DMA_LIMIT - *len)
		return ctl_usage(ctl, "SRC, DST: edu reaches below 0x%llx only (28 bits)",
				 EDU_DMA_LIMIT);
	return 0;
}

static int cmd_edu_dma(struct ctl *ctl, struct ctl_args *a)
{
	__u64 src, dst, len, i, copied = 0, kept = 0;
	__u8 *in, *out;
	struct vfio_dev *dev;
	unsigned int seed;
	int rc;

	if (find_dev(ctl, a->argv[0], &dev) ||
	    edu_args(ctl, a, &src, &dst, &len) ||
	    dma_memory(ctl, a, "src", dev, src, len, &in) ||
	    dma_memory(ctl, a, "dst", dev, dst, len, &out))
		return CTL_USAGE;
	if (in < out + len && out < in + len)
		return ctl_usage(ctl, "SRC, DST: their memory overlaps: no check possible");
	rc = edu_setup(ctl, dev);
	if (rc)
		return rc;
	/* A new pattern each time: stale data from before cannot pass. */
	seed = ++vfio_state(ctl)->seed;
	for (i = 0; i < len; i++)
		in[i] = pattern_byte(i, seed);
	memset(out, EDU_SENTINEL, len);
	rc = edu_transfer(dev, src, EDU_BUF, len, 0);
	if (!rc)
		rc = edu_transfer(dev, EDU_BUF, dst, len, EDU_DMA_TO_RAM);
	if (rc) {
		out_hint(ctl, "edu's DMA engine did not finish in 10 seconds");
		return rc;
	}
	for (i = 0; i < len; i++) {
		copied += out[i] == pattern_byte(i, seed);
		kept += out[i] == EDU_SENTINEL;
	}
	out_hex(ctl, "src", src);
	out_hex(ctl, "dst", dst);
	out_hex(ctl, "length", len);
	if (copied == len) {
		out_str(ctl, "result", "copied");
		return 0;
	}
	if (kept == len) {
		out_str(ctl, "result", "blocked");
		out_hint(ctl, hint_blocked);
		return -EIO;
	}
	out_str(ctl, "result", "mismatch");
	out_hint(ctl, hint_mismatch);
	return -EBADMSG;
}

const struct ctl_cmd vfio_cmds[] = {
	{ "vfio-open", NULL, "ADDR [type=TYPE] [container=CONTAINER]",
	  "VFIO_SET_IOMMU, VFIO_GROUP_GET_DEVICE_FD",
	  "open a device's VFIO group, container and device fd\n"
	  "ADDR is the PCI address (0000:00:03.0); the device must be bound\n"
	  "to vfio-pci. Puts its group in a new container of TYPE: oot (the\n"
	  "default: IOMMUFD_OOT_VFIO_TYPE, our backend), type1v2, type1 or a\n"
	  "number; or with container= in one this session opened. Prints\n"
	  "container (the result), device and group (fds), iommu_group, pci,\n"
	  "type, and backend: oot if iommufd_oot_vfio serves the container.\n",
	  0, cmd_vfio_open },
	{ "vfio-close", NULL, "DEV", NULL,
	  "close a device, its group, and its container with the last one\n"
	  "DEV is the device fd that vfio-open printed, or its PCI address.\n",
	  0, cmd_vfio_close },
	{ "vfio-info", NULL, "CONTAINER", "VFIO_IOMMU_GET_INFO",
	  "describe a container: page sizes, DMA_AVAIL, usable IOVA ranges\n",
	  0, cmd_vfio_info },
	{ "vfio-map", NULL, "CONTAINER IOVA BUF LENGTH [flags=FLAGS]",
	  "VFIO_IOMMU_MAP_DMA",
	  "map LENGTH bytes of a buffer at IOVA through a container\n"
	  "BUF as for 'ioas map'. FLAGS: read, write (default read,write).\n",
	  0, cmd_vfio_map },
	{ "vfio-unmap", NULL, "CONTAINER [IOVA LENGTH]", "VFIO_IOMMU_UNMAP_DMA",
	  "unmap a range, or everything; prints the bytes unmapped\n"
	  "Without IOVA and LENGTH: VFIO_DMA_UNMAP_FLAG_ALL.\n",
	  0, cmd_vfio_unmap },
	{ "edu-dma", NULL, "DEV SRC DST LENGTH [src=BUF] [dst=BUF]", NULL,
	  "have QEMU's edu device copy RAM at IOVA SRC to IOVA DST\n"
	  "Writes a new pattern at SRC and the sentinel 0xa5 at DST, then edu\n"
	  "reads SRC into its buffer and writes it back at DST (1 to 2048\n"
	  "bytes, IOVAs below 256M). The memory is what this session mapped\n"
	  "there with vfio-map, or src=/dst= buffers (to look at memory no\n"
	  "longer mapped). Prints result=copied; fails with EIO if the DMA\n"
	  "was blocked (the sentinel stayed), EBADMSG if other data arrived.\n",
	  0, cmd_edu_dma },
	{ }
};
