// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd_oot_vfio.ko: this project as an IOMMU driver of VFIO's
 * container (/dev/vfio/vfio), so that programs written for VFIO type1
 * (QEMU, DPDK, SPDK, crosvm, cloud-hypervisor) get our IOAS and page
 * tables for real devices without a change.
 *
 * VFIO keeps what it does: group ownership, device fds, BARs,
 * interrupts, reset. Its container core asks its registered IOMMU
 * drivers, newest first, which supports the type a VFIO_SET_IOMMU names,
 * opens the first that does, and attaches the container's groups to it.
 * Loaded after vfio_iommu_type1 (see MODULE_SOFTDEP below), this driver
 * is asked first. A container of ours is a context of the core module
 * (kapi.c) whose compat IOAS its ioctls act on with type1's semantics;
 * each attached group's devices are device objects of that context,
 * translated by paging domains of the group's own IOMMU driver.
 * Emulated (mdev) groups have no IOMMU: their devices pin pages and read
 * and write memory by IOVA through one access on that IOAS, with type1's
 * rules (pin_pages, unpin_pages, dma_rw below).
 *
 * VFIO holds a reference on this module for every container it serves,
 * so it cannot be unloaded under one; once it is unloaded, new
 * containers get type1 again.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/iommu.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/major.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "../uapi/linux/iommufd.h"
#include "compat.h"
#include "kapi.h"
#include "vfio_ops.h"

static bool type1 = true;
module_param(type1, bool, 0644);
MODULE_PARM_DESC(type1,
		 "Serve VFIO_TYPE1_IOMMU and VFIO_TYPE1v2_IOMMU containers (default: yes); IOMMUFD_OOT_VFIO_TYPE is always served");

static bool allow_unsafe_interrupts;
module_param(allow_unsafe_interrupts, bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Accept groups whose MSIs are not isolated (no interrupt remapping), as vfio_iommu_type1's parameter of that name");

/**
 * struct oot_container - a VFIO container this driver serves
 * @ictx: its context; the compat IOAS is its address space
 * @groups: struct oot_group, the groups attached
 * @node: in oot_containers
 * @v2: TYPE1v2 semantics (TYPE1v2 or our own type): emulated devices may
 *	pin pages only then, as with type1
 * @nemulated: emulated groups in @groups; the access exists while > 0.
 *	Changed under oot_lock.
 * @dev_lock: guards @devices and writes of @ndevices. Held while calling
 *	their dma_unmap, which takes the driver's locks and then @pin_lock:
 *	so never taken under either (pin_pages reads @ndevices unlocked).
 * @devices: struct vfio_device by iommu_entry, the open devices with a
 *	dma_unmap callback: those that may pin
 * @ndevices: the length of @devices
 * @pin_lock: guards @access and @pins
 * @access: pins and reads/writes for the emulated devices, on the compat
 *	IOAS; NULL without emulated groups
 * @pins: the pins of @access by IOVA page number; each value
 *	(xa_mk_value) counts the pins of that page not yet undone
 */
struct oot_container {
	struct iommufd_ctx *ictx;
	struct list_head groups;
	struct list_head node;
	bool v2;
	unsigned int nemulated;
	struct mutex dev_lock; /* devices, ndevices writes; see above */
	struct list_head devices;
	unsigned int ndevices;
	struct mutex pin_lock; /* access, pins */
	struct iommufd_access *access;
	struct xarray pins;
};

/**
 * struct oot_group - a group attached to a container of ours
 * @node: in its container's @groups
 * @group: the group; VFIO holds it while it is attached
 * @igroup: its devices in the container's context; NULL for an emulated
 *	group, whose devices use the container's access
 */
struct oot_group {
	struct list_head node;
	struct iommu_group *group;
	struct iommufd_group *igroup;
};

/*
 * Guards oot_containers and every container's group list. VFIO calls
 * attach and detach under its container's lock already; this one also
 * covers the test builds' lookup across containers.
 */
static DEFINE_MUTEX(oot_lock);
static LIST_HEAD(oot_containers);

static bool oot_serves(unsigned long type)
{
	if (type == IOMMUFD_OOT_VFIO_TYPE)
		return true;
	return READ_ONCE(type1) &&
	       (type == VFIO_TYPE1_IOMMU || type == VFIO_TYPE1v2_IOMMU);
}

/* VFIO_SET_IOMMU chose us for @type: a new container. */
static void *oot_open(unsigned long type)
{
	struct oot_container *container;
	long rc;

	if (!oot_serves(type))
		return ERR_PTR(-EINVAL);
	container = kzalloc(sizeof(*container), GFP_KERNEL_ACCOUNT);
	if (!container)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&container->groups);
	INIT_LIST_HEAD(&container->devices);
	mutex_init(&container->dev_lock);
	mutex_init(&container->pin_lock);
	xa_init(&container->pins);
	container->v2 = type != VFIO_TYPE1_IOMMU;
	container->ictx = iommufd_kapi_ctx_create();
	if (IS_ERR(container->ictx)) {
		rc = PTR_ERR(container->ictx);
		goto err_free;
	}
	/* Our own type has TYPE1v2's semantics. */
	rc = iommufd_kapi_vfio_ioctl(container->ictx, VFIO_SET_IOMMU,
				     type == IOMMUFD_OOT_VFIO_TYPE ?
					     VFIO_TYPE1v2_IOMMU : type);
	if (rc)
		goto err_ctx;
	mutex_lock(&oot_lock);
	list_add(&container->node, &oot_containers);
	mutex_unlock(&oot_lock);
	return container;

err_ctx:
	iommufd_kapi_ctx_destroy(container->ictx);
err_free:
	mutex_destroy(&container->pin_lock);
	mutex_destroy(&container->dev_lock);
	kfree(container);
	return ERR_PTR(rc);
}

/* The container's last group has left: VFIO detached each first. */
static void oot_release(void *data)
{
	struct oot_container *container = data;

	mutex_lock(&oot_lock);
	list_del(&container->node);
	mutex_unlock(&oot_lock);
	WARN_ON(!list_empty(&container->groups));
	WARN_ON(container->access || !xa_empty(&container->pins));
	iommufd_kapi_ctx_destroy(container->ictx);
	xa_destroy(&container->pins);
	mutex_destroy(&container->pin_lock);
	mutex_destroy(&container->dev_lock);
	kfree(container);
}

static long oot_check_extension(struct oot_container *container,
				unsigned long ext)
{
	switch (ext) {
	case IOMMUFD_OOT_VFIO_TYPE:
		return 1;
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
		return READ_ONCE(type1);
	}
	/* Before VFIO_SET_IOMMU there is no container to ask. */
	if (!container)
		return ext == VFIO_UNMAP_ALL;
	return iommufd_kapi_vfio_ioctl(container->ictx, VFIO_CHECK_EXTENSION,
				       ext);
}

/*
 * IOMMU_VFIO_LINK on /dev/iommu (link.c in the core) asks which context
 * a container fd is. VFIO keeps its containers private; what it does
 * offer is to pass an ioctl it does not know to the container's IOMMU
 * driver, holding the container's group lock for read, so the container
 * cannot lose its IOMMU meanwhile. So the question goes to the container
 * as an ioctl, IOMMU_VFIO_LINK itself, issued from the kernel with a
 * kernel pointer as argument: if this driver serves the container, it
 * answers; type1 says ENOTTY, a container without an IOMMU EINVAL.
 *
 * Userspace may send the same number to a container: only the task that
 * is asking, with the very pointer it registered in oot_link_pending,
 * is answered, and the pointer is compared, never followed, before that.
 */
struct oot_link_query {
	struct iommufd_ctx *ictx;
};

/* Guards oot_link_pending and oot_link_task: one question at a time. */
static DEFINE_MUTEX(oot_link_lock);
static struct oot_link_query *oot_link_pending;
static struct task_struct *oot_link_task;

static long oot_link_answer(struct oot_container *container,
			    unsigned long arg)
{
	struct oot_link_query *query = READ_ONCE(oot_link_pending);

	/* Only the asking task sees its own registration here. */
	if (!container || READ_ONCE(oot_link_task) != current || !query ||
	    arg != (unsigned long)query)
		return -ENOTTY;
	query->ictx = iommufd_kapi_ctx_get(container->ictx);
	return 0;
}

/* struct iommufd_link_ops's container_ctx, see oot_link_answer(). */
static struct iommufd_ctx *oot_link_container_ctx(struct file *file)
{
	struct inode *inode = file_inode(file);
	struct oot_link_query query = {};
	long rc;

	/* Nothing but /dev/vfio/vfio gets the kernel pointer. */
	if (!S_ISCHR(inode->i_mode) ||
	    inode->i_rdev != MKDEV(MISC_MAJOR, VFIO_MINOR) ||
	    !file->f_op->unlocked_ioctl)
		return ERR_PTR(-EINVAL);
	mutex_lock(&oot_link_lock);
	WRITE_ONCE(oot_link_pending, &query);
	WRITE_ONCE(oot_link_task, current);
	rc = file->f_op->unlocked_ioctl(file, IOMMU_VFIO_LINK,
					(unsigned long)&query);
	WRITE_ONCE(oot_link_task, NULL);
	WRITE_ONCE(oot_link_pending, NULL);
	mutex_unlock(&oot_link_lock);
	if (rc)
		return ERR_PTR(-EINVAL);
	return query.ictx;
}

static const struct iommufd_link_ops oot_link_ops = {
	.owner = THIS_MODULE,
	.container_ctx = oot_link_container_ctx,
};

static long oot_ioctl(void *data, unsigned int cmd, unsigned long arg)
{
	struct oot_container *container = data;

	if (cmd == VFIO_CHECK_EXTENSION)
		return oot_check_extension(container, arg);
	if (cmd == IOMMU_VFIO_LINK)
		return oot_link_answer(container, arg);
	if (!container)
		return -EINVAL;
	return iommufd_kapi_vfio_ioctl(container->ictx, cmd, arg);
}

static struct oot_group *oot_find_group(struct oot_container *container,
					struct iommu_group *group)
{
	struct oot_group *entry;

	lockdep_assert_held(&oot_lock);
	list_for_each_entry(entry, &container->groups, node)
		if (entry->group == group)
			return entry;
	return NULL;
}

/*
 * An emulated device's dma_unmap, for every registered device, before an
 * unmap removes [iova, iova + length - 1] where the access has pins: each
 * unpins what it pinned there (type1 calls them the same way). From the
 * access's unmap callback, with no lock of ours held.
 */
static void oot_emulated_unmap(void *data, unsigned long iova,
			       unsigned long length)
{
	struct oot_container *container = data;
	struct vfio_device *vdev;

	mutex_lock(&container->dev_lock);
	list_for_each_entry(vdev, &container->devices, iommu_entry)
		vdev->ops->dma_unmap(vdev, iova, length);
	mutex_unlock(&container->dev_lock);
}

/*
 * Undo every pin of the access, pin_lock held. The devices unpin in their
 * close_device, before VFIO lets the group go: pins left here belong to a
 * driver that forgot them, and must not outlive the container.
 */
static void oot_unpin_all(struct oot_container *container)
{
	unsigned long index;
	void *entry;

	lockdep_assert_held(&container->pin_lock);
	xa_for_each(&container->pins, index, entry) {
		unsigned long n = xa_to_value(entry);

		while (n--)
			iommufd_kapi_access_unpin(container->access,
						  index << PAGE_SHIFT);
		xa_erase(&container->pins, index);
		iommufd_kapi_vfio_unpinned(container->ictx,
					   index << PAGE_SHIFT);
		cond_resched();
	}
}

/* The first emulated group of @container: its access. oot_lock held. */
static int oot_emulated_get(struct oot_container *container)
{
	struct iommufd_access *access;

	lockdep_assert_held(&oot_lock);
	if (container->nemulated++)
		return 0;
	access = iommufd_kapi_access_create(container->ictx,
					    oot_emulated_unmap, container);
	if (IS_ERR(access)) {
		container->nemulated--;
		return PTR_ERR(access);
	}
	mutex_lock(&container->pin_lock);
	container->access = access;
	mutex_unlock(&container->pin_lock);
	return 0;
}

/* The last emulated group left: no pins, no access. oot_lock held. */
static void oot_emulated_put(struct oot_container *container)
{
	struct iommufd_access *access;

	lockdep_assert_held(&oot_lock);
	if (--container->nemulated)
		return;
	mutex_lock(&container->pin_lock);
	oot_unpin_all(container);
	access = container->access;
	container->access = NULL;
	mutex_unlock(&container->pin_lock);
	iommufd_kapi_access_destroy(access);
}

/*
 * VFIO owns @group's DMA already (it holds the group on its blocking
 * domain). Refusals are type1's: EPERM for MSIs that are not isolated,
 * EINVAL for a group attached already or whose reserved regions or
 * aperture clash with the mappings. An emulated (mdev) group gets no
 * domain: its devices use the container's access. No-IOMMU groups are
 * VFIO's own driver's: EOPNOTSUPP, and VFIO asks the next driver.
 */
static int oot_attach_group(void *data, struct iommu_group *group,
			    enum vfio_group_type type)
{
	struct oot_container *container = data;
	struct oot_group *entry;
	int rc;

	if (type != VFIO_IOMMU && type != VFIO_EMULATED_IOMMU)
		return -EOPNOTSUPP;
	if (type == VFIO_IOMMU && !READ_ONCE(allow_unsafe_interrupts) &&
	    !compat_iommu_group_has_isolated_msi(group)) {
		pr_warn_ratelimited("group %d: no interrupt remapping; the allow_unsafe_interrupts parameter accepts it anyway\n",
				    iommu_group_id(group));
		return -EPERM;
	}
	entry = kzalloc(sizeof(*entry), GFP_KERNEL_ACCOUNT);
	if (!entry)
		return -ENOMEM;
	entry->group = group;

	mutex_lock(&oot_lock);
	rc = -EINVAL;
	if (oot_find_group(container, group))
		goto err_unlock;
	if (type == VFIO_EMULATED_IOMMU) {
		rc = oot_emulated_get(container);
		if (rc)
			goto err_unlock;
	} else {
		entry->igroup = iommufd_kapi_group_attach(container->ictx,
							  group);
		if (IS_ERR(entry->igroup)) {
			rc = PTR_ERR(entry->igroup);
			goto err_unlock;
		}
	}
	list_add_tail(&entry->node, &container->groups);
	mutex_unlock(&oot_lock);
	return 0;

err_unlock:
	mutex_unlock(&oot_lock);
	kfree(entry);
	return rc;
}

static void oot_detach_group(void *data, struct iommu_group *group)
{
	struct oot_container *container = data;
	struct oot_group *entry;

	mutex_lock(&oot_lock);
	entry = oot_find_group(container, group);
	if (entry) {
		list_del(&entry->node);
		if (!entry->igroup)
			oot_emulated_put(container);
	}
	mutex_unlock(&oot_lock);
	if (WARN_ON(!entry))
		return;
	if (entry->igroup) {
		iommufd_kapi_group_detach(entry->igroup);
		/* What it wrote since the last read was never tracked. */
		iommufd_kapi_vfio_group_left(container->ictx);
	}
	kfree(entry);
}

/* Count one more pin of the page at @iova. pin_lock held. */
static int oot_pins_inc(struct oot_container *container, unsigned long iova)
{
	unsigned long index = iova >> PAGE_SHIFT;
	void *old = xa_load(&container->pins, index);
	unsigned long n = old ? xa_to_value(old) : 0;

	return xa_err(xa_store(&container->pins, index, xa_mk_value(n + 1),
			       GFP_KERNEL_ACCOUNT));
}

/*
 * Undo one pin of the page at @iova, if it has one: as with type1,
 * unpinning what is not pinned does nothing. pin_lock held.
 */
static void oot_unpin_one(struct oot_container *container, unsigned long iova)
{
	unsigned long index = iova >> PAGE_SHIFT;
	void *old = xa_load(&container->pins, index);
	unsigned long n = old ? xa_to_value(old) : 0;

	if (!n)
		return;
	iommufd_kapi_access_unpin(container->access, iova);
	if (n == 1) {
		xa_erase(&container->pins, index);
		iommufd_kapi_vfio_unpinned(container->ictx, iova);
	} else {
		xa_store(&container->pins, index, xa_mk_value(n - 1),
			 GFP_KERNEL);
	}
}

static unsigned long oot_page_iova(unsigned long iova, int i)
{
	return iova + ((unsigned long)i << PAGE_SHIFT);
}

/*
 * Pin the page at @iova, counted, and tell the container's dirty
 * tracking: type1 reports a pinned page dirty, and one pinned while
 * tracking even after it is unpinned (also when a later page of the same
 * call fails). pin_lock held.
 */
static int oot_pin_one(struct oot_container *container, unsigned long iova,
		       struct page **page, bool write)
{
	int rc;

	rc = iommufd_kapi_access_pin(container->access, iova, page, write);
	if (rc)
		return rc;
	rc = oot_pins_inc(container, iova);
	if (rc) {
		iommufd_kapi_access_unpin(container->access, iova);
		return rc;
	}
	rc = iommufd_kapi_vfio_pinned(container->ictx, iova);
	if (rc)
		oot_unpin_one(container, iova);
	return rc;
}

/*
 * vfio_pin_pages() of an emulated device: the @npage pages from
 * @user_iova (rounded down to its page), each mapped with at least @prot.
 * Type1's rules and errnos: EACCES in a v1 container; EINVAL with no
 * device that can be told to unpin, or where nothing is mapped; EPERM
 * where the mapping lacks @prot; E2BIG over VFIO_PIN_PAGES_MAX_ENTRIES.
 * All or nothing; returns @npage.
 */
static int oot_pin_pages(void *data, struct iommu_group *group,
			 dma_addr_t user_iova, int npage, int prot,
			 struct page **pages)
{
	struct oot_container *container = data;
	unsigned long iova, end;
	int i, rc;

	if (!pages || npage <= 0)
		return -EINVAL;
	if (!container->v2)
		return -EACCES;
	if (npage > VFIO_PIN_PAGES_MAX_ENTRIES)
		return -E2BIG;
	/* type1 compares the mapping's protection with all of @prot. */
	if (prot & ~(IOMMU_READ | IOMMU_WRITE))
		return -EPERM;
	iova = ALIGN_DOWN(user_iova, PAGE_SIZE);
	if (user_iova > ULONG_MAX ||
	    check_add_overflow(iova, (unsigned long)npage << PAGE_SHIFT, &end))
		return -EINVAL;
	/* type1 pins only for devices it can ask to unpin. */
	if (!READ_ONCE(container->ndevices))
		return -EINVAL;

	mutex_lock(&container->pin_lock);
	rc = container->access ? 0 : -EINVAL;
	for (i = 0; !rc && i < npage; i++) {
		rc = oot_pin_one(container, oot_page_iova(iova, i), &pages[i],
				 prot & IOMMU_WRITE);
		if (rc)
			break;
		cond_resched();
	}
	/* All or nothing: pages [0, i) are pinned. */
	if (rc) {
		while (i--)
			oot_unpin_one(container, oot_page_iova(iova, i));
	}
	mutex_unlock(&container->pin_lock);
	return rc ? rc : npage;
}

/* vfio_unpin_pages(): undo one pin of each of the pages; type1's rules. */
static void oot_unpin_pages(void *data, dma_addr_t user_iova, int npage)
{
	struct oot_container *container = data;
	unsigned long iova = ALIGN_DOWN(user_iova, PAGE_SIZE);
	int i;

	if (user_iova > ULONG_MAX || npage <= 0)
		return;
	mutex_lock(&container->pin_lock);
	for (i = 0; container->access && i < npage; i++) {
		oot_unpin_one(container, oot_page_iova(iova, i));
		cond_resched();
	}
	mutex_unlock(&container->pin_lock);
}

/*
 * A device was opened: one that can pin (it has dma_unmap) must hear of
 * unmaps from now on. VFIO serialises this with the group's users.
 */
static void oot_register_device(void *data, struct vfio_device *vdev)
{
	struct oot_container *container = data;

	if (!vdev->ops->dma_unmap)
		return;
	mutex_lock(&container->dev_lock);
	list_add(&vdev->iommu_entry, &container->devices);
	WRITE_ONCE(container->ndevices, container->ndevices + 1);
	mutex_unlock(&container->dev_lock);
}

/* After its close_device, which has unpinned what it pinned. */
static void oot_unregister_device(void *data, struct vfio_device *vdev)
{
	struct oot_container *container = data;

	if (!vdev->ops->dma_unmap)
		return;
	mutex_lock(&container->dev_lock);
	list_del(&vdev->iommu_entry);
	WRITE_ONCE(container->ndevices, container->ndevices - 1);
	mutex_unlock(&container->dev_lock);
}

/*
 * vfio_dma_rw(): copy between @buf and the memory behind @user_iova,
 * which may be another process's. As type1: also in v1 containers;
 * EINVAL where nothing is mapped, EPERM where the mapping does not
 * allow the direction.
 */
static int oot_dma_rw(void *data, dma_addr_t user_iova, void *buf,
		      size_t count, bool write)
{
	struct oot_container *container = data;
	int rc;

	if (!count || user_iova > ULONG_MAX)
		return -EINVAL;
	mutex_lock(&container->pin_lock);
	rc = container->access ?
		     iommufd_kapi_access_rw(container->access, user_iova, buf,
					    count, write) : -EINVAL;
	/* type1 reports what dma_rw wrote while tracking dirty pages. */
	if (!rc && write)
		iommufd_kapi_vfio_written(container->ictx, user_iova, count);
	mutex_unlock(&container->pin_lock);
	return rc;
}

static const struct vfio_iommu_driver_ops oot_ops = {
	.name = "iommufd_oot",
	.owner = THIS_MODULE,
	.open = oot_open,
	.release = oot_release,
	.ioctl = oot_ioctl,
	.attach_group = oot_attach_group,
	.detach_group = oot_detach_group,
	.pin_pages = oot_pin_pages,
	.unpin_pages = oot_unpin_pages,
	.register_device = oot_register_device,
	.unregister_device = oot_unregister_device,
	.dma_rw = oot_dma_rw,
};

#ifdef CONFIG_IOMMUFD_OOT_TEST
/*
 * Test builds: debugfs iommufd_oot_test_vfio/iova_to_phys. Write
 * "GROUP_ID IOVA" (decimal group number, hex or decimal IOVA); read back
 * what the domain of that group, in whichever container of ours holds
 * it, translates the IOVA to ("0x0" for nothing), so a test can compare
 * it with the physical address of the page it mapped.
 */
static struct dentry *oot_debugfs;
static phys_addr_t oot_last_phys;

static phys_addr_t oot_translate(int group_id, unsigned long iova)
{
	struct oot_container *container;
	struct oot_group *entry;
	phys_addr_t phys = 0;

	mutex_lock(&oot_lock);
	list_for_each_entry(container, &oot_containers, node) {
		list_for_each_entry(entry, &container->groups, node) {
			if (iommu_group_id(entry->group) != group_id ||
			    !entry->igroup)
				continue;
			phys = iommufd_kapi_group_iova_to_phys(entry->igroup,
							       iova);
		}
	}
	mutex_unlock(&oot_lock);
	return phys;
}

static ssize_t oot_iova_to_phys_write(struct file *file,
				      const char __user *ubuf, size_t len,
				      loff_t *ppos)
{
	unsigned long iova;
	char buf[64];
	int group_id;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	if (sscanf(buf, "%d %li", &group_id, &iova) != 2)
		return -EINVAL;
	WRITE_ONCE(oot_last_phys, oot_translate(group_id, iova));
	return len;
}

static ssize_t oot_iova_to_phys_read(struct file *file, char __user *ubuf,
				     size_t len, loff_t *ppos)
{
	char buf[32];
	int n;

	n = scnprintf(buf, sizeof(buf), "%#llx\n",
		      (unsigned long long)READ_ONCE(oot_last_phys));
	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static const struct file_operations oot_iova_to_phys_fops = {
	.owner = THIS_MODULE,
	.write = oot_iova_to_phys_write,
	.read = oot_iova_to_phys_read,
};

static void oot_debugfs_init(void)
{
	oot_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("iova_to_phys", 0600, oot_debugfs, NULL,
			    &oot_iova_to_phys_fops);
}

static void oot_debugfs_exit(void)
{
	debugfs_remove_recursive(oot_debugfs);
}
#else
static void oot_debugfs_init(void)
{
}

static void oot_debugfs_exit(void)
{
}
#endif

static int __init oot_vfio_init(void)
{
	int rc;

	rc = iommufd_kapi_link_register(&oot_link_ops);
	if (rc)
		return rc;
	rc = vfio_register_iommu_driver(&oot_ops);
	if (rc) {
		iommufd_kapi_link_unregister(&oot_link_ops);
		return rc;
	}
	oot_debugfs_init();
	pr_info("VFIO IOMMU driver registered (type1=%d, own type %#x)\n",
		type1, IOMMUFD_OOT_VFIO_TYPE);
	return 0;
}

static void __exit oot_vfio_exit(void)
{
	oot_debugfs_exit();
	vfio_unregister_iommu_driver(&oot_ops);
	iommufd_kapi_link_unregister(&oot_link_ops);
}

module_init(oot_vfio_init);
module_exit(oot_vfio_exit);

MODULE_IMPORT_NS(IOMMUFD_OOT);
/* Registered after type1, VFIO asks this driver first. */
MODULE_SOFTDEP("pre: vfio_iommu_type1");
MODULE_DESCRIPTION("/dev/iommu's address spaces as the IOMMU backend of VFIO containers");
#ifdef CONFIG_IOMMUFD_OOT_TEST
MODULE_INFO(build, "test");
#else
MODULE_INFO(build, "release");
#endif
MODULE_VERSION(IOMMUFD_OOT_VERSION);
MODULE_LICENSE("GPL");
