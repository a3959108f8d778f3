// SPDX-License-Identifier: GPL-2.0
/*
 * IOMMU_TEST_CMD: the test-only command that lets the selftests reach
 * inside the module (in-kernel accesses, reserved IOVA, pin reference
 * checks). Compiled only into test builds (CONFIG_IOMMUFD_OOT_TEST); a
 * release build answers the command number with ENOTTY like any unknown
 * command.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "fault.h"
#include "fault_queue.h"
#include "iommufd_private.h"
#include "iommufd_test.h"
#include "mock.h"
#include "pages.h"

/* Upstream's bound on what one ACCESS_PAGES or ACCESS_RW may touch. */
#define TEST_ACCESS_MAX_BYTES (16UL * 1024 * 1024)

/**
 * struct test_access - an access owned by an anonymous fd
 * @access: the core access
 * @lock: guards @items and @next_id, and serialises pinning against the
 *	unmap callback. Lock order: iopt users_lock -> lock -> ioas_lock.
 * @items: struct test_access_item, one per ACCESS_PAGES not yet undone
 * @next_id: ID for the next item
 * @keep_pins: MOCK_FLAGS_ACCESS_CREATE_KEEP_PINS: the unmap callback
 *	leaves the items pinned (set at creation, then only read)
 *
 * The selftests control the lifetime by closing the fd, as a driver
 * would by unbinding.
 */
struct test_access {
	struct iommufd_access *access;
	struct mutex lock; /* items and next_id */
	struct list_head items;
	unsigned int next_id;
	bool keep_pins;
};

struct test_access_item {
	struct list_head node;
	unsigned long iova;
	unsigned long length;
	unsigned int id;
};

static void test_access_drop_item(struct test_access *staccess,
				  struct test_access_item *item)
{
	iommufd_access_unpin_pages(staccess->access, item->iova,
				   item->length);
	list_del(&item->node);
	kfree(item);
}

/* Drop every item that overlaps [iova, iova + length - 1]. */
static void test_access_drop_range(struct test_access *staccess,
				   unsigned long iova, unsigned long length)
{
	struct test_access_item *item, *next;
	unsigned long last = iova + length - 1;

	mutex_lock(&staccess->lock);
	list_for_each_entry_safe(item, next, &staccess->items, node) {
		if (item->iova > last || item->iova + item->length - 1 < iova)
			continue;
		test_access_drop_item(staccess, item);
	}
	mutex_unlock(&staccess->lock);
}

/* The IOAS asks the access to unpin what it pins in the range. */
static void test_access_unmap(void *data, unsigned long iova,
			      unsigned long length)
{
	struct test_access *staccess = data;

	/* A stubborn access lets the unmap give up (EDEADLOCK). */
	if (staccess->keep_pins)
		return;
	test_access_drop_range(staccess, iova, length);
}

static const struct iommufd_access_ops test_access_ops_pin = {
	.unmap = test_access_unmap,
};

static const struct iommufd_access_ops test_access_ops_rw = {};

static int test_access_release(struct inode *inode, struct file *file)
{
	struct test_access *staccess = file->private_data;

	test_access_drop_range(staccess, 0, ULONG_MAX);
	iommufd_access_destroy(staccess->access);
	mutex_destroy(&staccess->lock);
	kfree(staccess);
	return 0;
}

static const struct file_operations test_access_fops = {
	.owner = THIS_MODULE,
	.release = test_access_release,
};

/*
 * The access behind an access fd of this context. The caller owns a file
 * reference, dropped with fput(). -EBADFD for anything else, as upstream
 * answers a bad fd or one that is no access (upstream would even use an
 * access of another context; we refuse it the same way).
 */
static struct test_access *test_access_get(struct iommufd_ucmd *ucmd,
					   int fd, struct file **filep)
{
	struct test_access *staccess;
	struct file *file;

	file = fget(fd);
	if (!file)
		return ERR_PTR(-EBADFD);
	staccess = file->private_data;
	if (file->f_op != &test_access_fops ||
	    staccess->access->ictx != ucmd->ictx) {
		fput(file);
		return ERR_PTR(-EBADFD);
	}
	*filep = file;
	return staccess;
}

static int test_create_access(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	u32 flags = cmd->create_access.flags;
	const struct iommufd_access_ops *ops;
	struct test_access *staccess;
	struct file *file;
	int fd, rc;

	if (flags & ~(MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES |
		      MOCK_FLAGS_ACCESS_CREATE_KEEP_PINS))
		return -EOPNOTSUPP;
	/* Only an access that pins has pins to keep. */
	if ((flags & MOCK_FLAGS_ACCESS_CREATE_KEEP_PINS) &&
	    !(flags & MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES))
		return -EINVAL;
	/* Its result is a new fd, which a CQE cannot carry. */
	if (ucmd->from_uring)
		return -EOPNOTSUPP;

	staccess = kzalloc(sizeof(*staccess), GFP_KERNEL_ACCOUNT);
	if (!staccess)
		return -ENOMEM;
	mutex_init(&staccess->lock);
	INIT_LIST_HEAD(&staccess->items);
	staccess->keep_pins = flags & MOCK_FLAGS_ACCESS_CREATE_KEEP_PINS;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		rc = fd;
		goto err_free;
	}
	ops = (flags & MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES) ?
		      &test_access_ops_pin : &test_access_ops_rw;
	staccess->access = iommufd_access_create(ucmd->ictx, cmd->id, ops,
						 staccess);
	if (IS_ERR(staccess->access)) {
		rc = PTR_ERR(staccess->access);
		goto err_fd;
	}
	file = anon_inode_getfile("[iommufd_test_access]", &test_access_fops,
				  staccess, O_RDWR);
	if (IS_ERR(file)) {
		rc = PTR_ERR(file);
		goto err_access;
	}
	cmd->create_access.out_access_fd = fd;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		/* The file's release destroys the access and frees it all. */
		fput(file);
		put_unused_fd(fd);
		return rc;
	}
	fd_install(fd, file);
	return 0;

err_access:
	iommufd_access_destroy(staccess->access);
err_fd:
	put_unused_fd(fd);
err_free:
	mutex_destroy(&staccess->lock);
	kfree(staccess);
	return rc;
}

/* Do the pinned pages match what userspace sees at @uptr? */
static int test_check_pages(unsigned long uptr, struct page **pages,
			    unsigned long npages)
{
	for (; npages; npages--, pages++, uptr += PAGE_SIZE) {
		struct page *page;
		long got;

		got = get_user_pages_fast(uptr, 1, 0, &page);
		if (got != 1)
			return got < 0 ? got : -EFAULT;
		put_page(page);
		if (page != *pages)
			return -EBADE;
	}
	return 0;
}

static int test_access_pages(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	unsigned long iova = cmd->access_pages.iova;
	unsigned long length = cmd->access_pages.length;
	u32 flags = cmd->access_pages.flags;
	struct test_access_item *item;
	struct test_access *staccess;
	unsigned long npages;
	struct page **pages;
	struct file *file;
	int rc;

	/*
	 * Upstream's order: the size, the flags, the access; the range
	 * itself is the pin's to check (EINVAL, EOVERFLOW).
	 */
	if (length > TEST_ACCESS_MAX_BYTES)
		return -ENOMEM;
	if (flags & ~MOCK_FLAGS_ACCESS_WRITE)
		return -EOPNOTSUPP;
	staccess = test_access_get(ucmd, cmd->id, &file);
	if (IS_ERR(staccess))
		return PTR_ERR(staccess);
	rc = -EOPNOTSUPP;
	if (staccess->access->ops != &test_access_ops_pin)
		goto out_put;

	npages = (ALIGN(iova + length, PAGE_SIZE) -
		  ALIGN_DOWN(iova, PAGE_SIZE)) >> PAGE_SHIFT;
	rc = -ENOMEM;
	pages = kvcalloc(npages, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	item = kzalloc(sizeof(*item), GFP_KERNEL_ACCOUNT);
	if (!pages || !item)
		goto out_free;

	mutex_lock(&staccess->lock);
	rc = iommufd_access_pin_pages(staccess->access, iova, length, pages,
				      flags & MOCK_FLAGS_ACCESS_WRITE);
	if (rc)
		goto out_unlock;
	if (cmd->access_pages.uptr) {
		rc = test_check_pages(ALIGN_DOWN(cmd->access_pages.uptr,
						 PAGE_SIZE), pages, npages);
		if (rc)
			goto out_unpin;
	}
	item->iova = iova;
	item->length = length;
	item->id = staccess->next_id++;
	cmd->access_pages.out_access_pages_id = item->id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_unpin;
	list_add_tail(&item->node, &staccess->items);
	item = NULL;
	goto out_unlock;

out_unpin:
	iommufd_access_unpin_pages(staccess->access, iova, length);
out_unlock:
	mutex_unlock(&staccess->lock);
out_free:
	kfree(item);
	kvfree(pages);
out_put:
	fput(file);
	return rc;
}

static int test_destroy_access_pages(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct test_access_item *item;
	struct test_access *staccess;
	struct file *file;
	int rc = -ENOENT;

	staccess = test_access_get(ucmd, cmd->id, &file);
	if (IS_ERR(staccess))
		return PTR_ERR(staccess);
	mutex_lock(&staccess->lock);
	list_for_each_entry(item, &staccess->items, node) {
		if (item->id == cmd->destroy_access_pages.access_pages_id) {
			test_access_drop_item(staccess, item);
			rc = 0;
			break;
		}
	}
	mutex_unlock(&staccess->lock);
	fput(file);
	return rc;
}

static int test_access_rw(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	void __user *uptr = u64_to_user_ptr(cmd->access_rw.uptr);
	unsigned long length = cmd->access_rw.length;
	u32 flags = cmd->access_rw.flags;
	struct test_access *staccess;
	unsigned int rw_flags = 0;
	struct file *file;
	void *buf;
	int rc;

	/* Upstream's order: the size, then the flags. */
	if (length > TEST_ACCESS_MAX_BYTES)
		return -ENOMEM;
	if (flags & ~(MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH))
		return -EOPNOTSUPP;
	if (flags & MOCK_ACCESS_RW_WRITE)
		rw_flags |= IOPT_RW_WRITE;
	if (flags & MOCK_ACCESS_RW_SLOW_PATH)
		rw_flags |= IOPT_RW_REMOTE;
	staccess = test_access_get(ucmd, cmd->id, &file);
	if (IS_ERR(staccess))
		return PTR_ERR(staccess);

	rc = -ENOMEM;
	buf = kvzalloc(length ?: 1, GFP_KERNEL_ACCOUNT);
	if (!buf)
		goto out_put;
	rc = -EFAULT;
	if ((rw_flags & IOPT_RW_WRITE) && copy_from_user(buf, uptr, length))
		goto out_free;
	rc = iommufd_access_rw(staccess->access, cmd->access_rw.iova, buf,
			       length, rw_flags);
	if (rc)
		goto out_free;
	if (!(rw_flags & IOPT_RW_WRITE) && copy_to_user(uptr, buf, length))
		rc = -EFAULT;
out_free:
	kvfree(buf);
out_put:
	fput(file);
	return rc;
}

static int test_access_replace_ioas(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct test_access *staccess;
	struct file *file;
	int rc;

	staccess = test_access_get(ucmd, cmd->id, &file);
	if (IS_ERR(staccess))
		return PTR_ERR(staccess);
	rc = iommufd_access_replace(staccess->access,
				    cmd->access_replace_ioas.ioas_id);
	fput(file);
	return rc;
}

/* The IOVA range [*start, *last] in add_reserved.start and .length. */
static int test_reserved_range(struct iommu_test_cmd *cmd,
			       unsigned long *start, unsigned long *last)
{
	*start = cmd->add_reserved.start;
	if (!cmd->add_reserved.length)
		return -EINVAL;
	if (check_add_overflow(*start, cmd->add_reserved.length - 1, last))
		return -EOVERFLOW;
	return 0;
}

static int test_add_reserved(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	unsigned long start, last;
	int rc;

	rc = test_reserved_range(cmd, &start, &last);
	if (rc)
		return rc;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = iopt_reserve(&ioas->iopt, start, last, NULL);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

/*
 * A walk over user memory of a size the caller chose: give the CPU away
 * between steps, and stop for a fatal signal so that a long walk can be
 * killed.
 */
static int test_walk_step(void)
{
	if (fatal_signal_pending(current))
		return -EINTR;
	cond_resched();
	return 0;
}

/*
 * Is every small page of [uptr, uptr + length) pinned exactly @refs
 * times? Pins of a small page are counted in its refcount in units of
 * GUP_PIN_COUNTING_BIAS, which ordinary references cannot reach; pages
 * of large folios are skipped, their pins are counted elsewhere. A range
 * longer than the machine's memory is refused with EINVAL: it cannot be
 * a buffer anyone pinned, and walking it would take hours.
 */
static int test_check_refs(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	unsigned long uptr = cmd->check_refs.uptr;
	unsigned long length = cmd->check_refs.length;
	unsigned long end;
	int rc;

	if (length % PAGE_SIZE || uptr % PAGE_SIZE ||
	    length / PAGE_SIZE > totalram_pages() ||
	    check_add_overflow(uptr, length, &end))
		return -EINVAL;
	for (; uptr != end; uptr += PAGE_SIZE) {
		struct page *page;
		unsigned int count;
		long got;

		rc = test_walk_step();
		if (rc)
			return rc;
		got = get_user_pages_fast(uptr, 1, 0, &page);
		if (got != 1)
			return got < 0 ? got : -EFAULT;
		count = page_ref_count(page);
		put_page(page);
		if (!PageCompound(page) &&
		    count / GUP_PIN_COUNTING_BIAS != cmd->check_refs.refs)
			return -EIO;
	}
	return 0;
}

static int test_set_memory_limit(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	u32 limit = cmd->memory_limit.limit;

	/* As upstream: room for at least one PFN and its count. */
	if (limit < sizeof(u64) + sizeof(u32))
		return -EINVAL;
	WRITE_ONCE(iopt_pages_batch_bytes, limit);
	return 0;
}

/**
 * struct selftest_obj - a mock device, as userspace sees it (stdev_id)
 * @obj: the object header; destroying it unbinds the device
 * @idev: the bound device (idev_id), owned by this object
 * @mdev: the mock driver's state of the device
 */
struct selftest_obj {
	struct iommufd_object obj;
	struct iommufd_device *idev;
	struct mock_dev mdev;
};

static_assert(offsetof(struct selftest_obj, obj) == 0);

static void iommufd_selftest_destroy(struct iommufd_object *obj)
{
	struct selftest_obj *sobj = container_of(obj, struct selftest_obj, obj);

	iommufd_device_unbind(sobj->idev);
}

static const struct iommufd_object_ops iommufd_selftest_ops = {
	.destroy = iommufd_selftest_destroy,
};

static struct selftest_obj *test_get_stdev(struct iommufd_ucmd *ucmd, u32 id)
{
	struct iommufd_object *obj;

	obj = iommufd_get_object(ucmd->ictx, id, IOMMUFD_OBJ_SELFTEST);
	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct selftest_obj, obj);
}

/* A HWPT whose domain belongs to the mock driver. */
static struct iommufd_hwpt_paging *
test_get_mock_hwpt(struct iommufd_ucmd *ucmd, u32 id)
{
	struct iommufd_hwpt_paging *hwpt;
	struct iommufd_object *obj;

	obj = iommufd_get_object(ucmd->ictx, id, IOMMUFD_OBJ_HWPT_PAGING);
	if (IS_ERR(obj))
		return ERR_CAST(obj);
	hwpt = container_of(obj, struct iommufd_hwpt_paging, obj);
	if (!mock_domain_is_mock(hwpt->domain)) {
		iommufd_put_object(ucmd->ictx, obj);
		return ERR_PTR(-EINVAL);
	}
	return hwpt;
}

/*
 * MOCK_DOMAIN and MOCK_DOMAIN_FLAGS: make a mock device, bind it, and
 * attach it to @cmd->id (an IOAS or HWPT).
 */
static int test_mock_domain(struct iommufd_ucmd *ucmd, u32 dev_flags)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct selftest_obj *sobj;
	u32 hwpt_id;
	int rc;

	if (dev_flags & ~(MOCK_FLAGS_DEVICE_NO_DIRTY |
			  MOCK_FLAGS_DEVICE_HUGE_IOVA |
			  MOCK_FLAGS_DEVICE_PASID |
			  MOCK_FLAGS_DEVICE_HUGE_IOPTE_ONLY |
			  MOCK_FLAGS_DEVICE_APERTURE_AT_0 |
			  MOCK_FLAGS_DEVICE_WIDE_APERTURE))
		return -EINVAL;
	sobj = iommufd_object_alloc(ucmd->ictx, sobj, IOMMUFD_OBJ_SELFTEST,
				    &iommufd_selftest_ops);
	if (IS_ERR(sobj))
		return PTR_ERR(sobj);
	mock_dev_init(&sobj->mdev, dev_flags);
	sobj->idev = iommufd_device_bind(ucmd->ictx, &mock_device_ops,
					 &sobj->mdev);
	if (IS_ERR(sobj->idev)) {
		rc = PTR_ERR(sobj->idev);
		goto err_abort;
	}
	rc = iommufd_device_attach(sobj->idev, cmd->id, &hwpt_id);
	if (rc)
		goto err_unbind;

	/* mock_domain_flags starts with the same three outputs. */
	cmd->mock_domain.out_stdev_id = sobj->obj.id;
	cmd->mock_domain.out_hwpt_id = hwpt_id;
	cmd->mock_domain.out_idev_id = sobj->idev->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto err_unbind;
	iommufd_object_finalize(ucmd->ictx, &sobj->obj);
	return 0;

err_unbind:
	iommufd_device_unbind(sobj->idev);
err_abort:
	iommufd_object_abort(ucmd->ictx, &sobj->obj);
	return rc;
}

/*
 * The HWPT @idev uses now, with a long-term reference, or NULL; and the
 * nested HWPT on it the device is attached to, also held, in *@nested.
 */
static struct iommufd_hwpt_paging *
test_hold_hwpt(struct iommufd_device *idev,
	       struct iommufd_hwpt_nested **nested)
{
	struct iommufd_hwpt_paging *hwpt;

	mutex_lock(&idev->lock);
	hwpt = idev->hwpt;
	*nested = idev->nested;
	if (hwpt)
		iommufd_hwpt_hold(hwpt);
	if (*nested)
		iommufd_hwpt_nested_get(*nested);
	mutex_unlock(&idev->lock);
	return hwpt;
}

/* Best effort: the caller reports an error whatever this returns. */
static void test_attach_back(struct iommufd_device *idev, u32 old_id)
{
	u32 hwpt_id;

	if (iommufd_device_attach(idev, old_id, &hwpt_id))
		pr_debug("mock device stays on its new HWPT\n");
}

static int test_mock_domain_replace(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct iommufd_hwpt_nested *old_nested;
	struct iommufd_hwpt_paging *old;
	struct selftest_obj *sobj;
	u32 hwpt_id;
	int rc;

	sobj = test_get_stdev(ucmd, cmd->id);
	if (IS_ERR(sobj))
		return PTR_ERR(sobj);
	/*
	 * Keep the current HWPT alive (an automatic one would go with its
	 * last device), so a reply that cannot be written can put the
	 * device back where it was.
	 */
	old = test_hold_hwpt(sobj->idev, &old_nested);
	rc = iommufd_device_attach(sobj->idev,
				   cmd->mock_domain_replace.pt_id, &hwpt_id);
	if (!rc) {
		cmd->mock_domain_replace.pt_id = hwpt_id;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
		/*
		 * Going back is an attach too, and can fail as one (it
		 * allocates the device's reserved regions in the old IOAS
		 * again): then the device stays where the command put it,
		 * and the caller gets the reply's error all the same.
		 */
		if (rc && old)
			test_attach_back(sobj->idev, old_nested ?
					 old_nested->obj.id : old->obj.id);
	}
	if (old_nested)
		iommufd_hwpt_nested_put(old_nested);
	if (old)
		iommufd_hwpt_put(old);
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return rc;
}

static int test_mock_device_add_resv(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct selftest_obj *sobj;
	unsigned long start, last;
	int rc;

	rc = test_reserved_range(cmd, &start, &last);
	if (rc)
		return rc;
	sobj = test_get_stdev(ucmd, cmd->id);
	if (IS_ERR(sobj))
		return PTR_ERR(sobj);
	rc = iommufd_device_add_resv(sobj->idev, start, last);
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return rc;
}

static int test_mock_domain_set_limit(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt;

	hwpt = test_get_mock_hwpt(ucmd, cmd->id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	mock_domain_set_limit(hwpt->domain, cmd->memory_limit.limit);
	iommufd_put_object(ucmd->ictx, &hwpt->obj);
	return 0;
}

/*
 * Does HWPT @id translate [iova, iova + length) to the memory userspace
 * sees at uptr? Checked through iommu_iova_to_phys(), the same kernel
 * interface the core uses, one mock IOPTE unit at a time. A range longer
 * than the mock aperture cannot all translate: EINVAL at once.
 */
static int test_md_check_map(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	unsigned long iova = cmd->check_map.iova;
	unsigned long uptr = cmd->check_map.uptr;
	unsigned long length = cmd->check_map.length;
	struct iommufd_hwpt_paging *hwpt;
	/* No page aligned address equals ULONG_MAX: nothing looked up yet. */
	unsigned long end, page_uptr = ULONG_MAX;
	phys_addr_t page_phys = 0;
	int rc = 0;

	if (iova % MOCK_IO_PAGE_SIZE || length % MOCK_IO_PAGE_SIZE ||
	    uptr % MOCK_IO_PAGE_SIZE ||
	    length > MOCK_APERTURE_LAST - MOCK_APERTURE_START + 1 ||
	    check_add_overflow(uptr, length, &end))
		return -EINVAL;
	hwpt = test_get_mock_hwpt(ucmd, cmd->id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	for (; uptr != end; uptr += MOCK_IO_PAGE_SIZE, iova += MOCK_IO_PAGE_SIZE) {
		struct page *page;
		long got;

		rc = test_walk_step();
		if (rc)
			break;
		/* One lookup per CPU page serves all its IOPTE units. */
		if ((uptr & PAGE_MASK) != page_uptr) {
			page_uptr = uptr & PAGE_MASK;
			got = get_user_pages_fast(page_uptr, 1, 0, &page);
			if (got != 1) {
				rc = got < 0 ? got : -EFAULT;
				break;
			}
			page_phys = page_to_phys(page);
			put_page(page);
		}
		if (iommu_iova_to_phys(hwpt->domain, iova) !=
		    page_phys + uptr % PAGE_SIZE) {
			rc = -EINVAL;
			break;
		}
	}
	iommufd_put_object(ucmd->ictx, &hwpt->obj);
	return rc;
}

static int test_md_iopte_stats(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	unsigned long iova = cmd->check_map.iova;
	unsigned long length = cmd->check_map.length;
	struct iommu_test_iopte_stats stats;
	struct iommufd_hwpt_paging *hwpt;
	unsigned long last;
	int rc = 0;

	if (iova % MOCK_IO_PAGE_SIZE || length % MOCK_IO_PAGE_SIZE || !length ||
	    check_add_overflow(iova, length - 1, &last))
		return -EINVAL;
	hwpt = test_get_mock_hwpt(ucmd, cmd->id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	mock_domain_iopte_stats(hwpt->domain, iova, last, &stats);
	if (copy_to_user(u64_to_user_ptr(cmd->check_map.uptr), &stats,
			 sizeof(stats)))
		rc = -EFAULT;
	iommufd_put_object(ucmd->ictx, &hwpt->obj);
	return rc;
}

/* IOMMU_TEST_OP_DIRTY reads the user's bitmap a page of bits at a time. */
#define TEST_DIRTY_CHUNK_BITS (PAGE_SIZE * BITS_PER_BYTE)

/*
 * Read the @nbits bits at @ubits a chunk at a time into @chunk (a page),
 * and unless @count is NULL, mark dirty in @domain the page_size pages
 * whose bit is set, counting those that had an IOPTE. A page past the top
 * of the IOVA space does not exist and ends the walk.
 */
static int test_dirty_walk(struct iommu_domain *domain, u64 iova,
			   u64 page_size, unsigned long nbits,
			   const u8 __user *ubits, unsigned long *chunk,
			   unsigned long *count)
{
	unsigned long first, n, i;
	u64 offset, addr;

	for (first = 0; first < nbits; first += n) {
		n = min_t(unsigned long, nbits - first, TEST_DIRTY_CHUNK_BITS);
		if (copy_from_user(chunk, ubits + first / BITS_PER_BYTE,
				   DIV_ROUND_UP(n, BITS_PER_BYTE)))
			return -EFAULT;
		for_each_set_bit(i, chunk, count ? n : 0) {
			if (check_mul_overflow((u64)(first + i), page_size,
					       &offset) ||
			    check_add_overflow(iova, offset, &addr))
				return 0;
			if (mock_domain_mark_dirty(domain, addr, page_size))
				(*count)++;
			cond_resched();
		}
		cond_resched();
	}
	return 0;
}

/*
 * IOMMU_TEST_OP_DIRTY: act as the device writing the pages whose bit is
 * set in the user's bitmap, one bit per page_size from iova, in a mock
 * HWPT that tracks. Upstream's checks and errnos: EINVAL for a zero or
 * misaligned page_size or length or a NULL bitmap, EOVERFLOW beyond 2^27
 * bits, ENOENT/EINVAL for the HWPT, EINVAL if tracking is off, EFAULT for
 * a bitmap that cannot be read. Every IOPTE a set page overlaps becomes
 * dirty; out_nr_dirty counts the set pages that had one.
 *
 * Upstream copies the whole bitmap in at once; this reads it a page at a
 * time, so nothing is allocated by the user's length. To still mark
 * nothing for a bitmap that cannot be read, it is read through once
 * before anything is marked (a bitmap unmapped between the two reads
 * leaves the pages before the hole marked: the caller raced itself).
 */
static int test_dirty(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	const u8 __user *ubits = u64_to_user_ptr(cmd->dirty.uptr);
	u64 iova = cmd->dirty.iova, length = cmd->dirty.length;
	u64 page_size = cmd->dirty.page_size;
	struct iommufd_hwpt_paging *hwpt;
	unsigned long nbits, count = 0, *chunk;
	int rc;

	if (!page_size || !length || iova % page_size || length % page_size ||
	    !ubits)
		return -EINVAL;
	nbits = length / page_size;
	if (nbits > SZ_16M * BITS_PER_BYTE)
		return -EOVERFLOW;
	hwpt = test_get_mock_hwpt(ucmd, cmd->id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	rc = -EINVAL;
	if (!mock_domain_tracking(hwpt->domain))
		goto out_put;
	rc = -ENOMEM;
	chunk = kmalloc(PAGE_SIZE, GFP_KERNEL_ACCOUNT);
	if (!chunk)
		goto out_put;
	rc = test_dirty_walk(hwpt->domain, iova, page_size, nbits, ubits,
			     chunk, NULL);
	if (!rc)
		rc = test_dirty_walk(hwpt->domain, iova, page_size, nbits,
				     ubits, chunk, &count);
	if (!rc) {
		cmd->dirty.out_nr_dirty = count;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	kfree(chunk);
out_put:
	iommufd_put_object(ucmd->ictx, &hwpt->obj);
	return rc;
}

/*
 * IOMMU_TEST_OP_MD_CHECK_IOTLB, as upstream: @id must be a nested HWPT
 * (ENOENT), of the mock (EINVAL), whose IOTLB entry check_iotlb.id
 * exists and holds check_iotlb.iotlb (EINVAL otherwise).
 */
static int test_md_check_iotlb(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct iommufd_hwpt_nested *nested;
	struct iommufd_object *obj;
	int rc = -EINVAL;

	obj = iommufd_get_object(ucmd->ictx, cmd->id, IOMMUFD_OBJ_HWPT_NESTED);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	nested = container_of(obj, struct iommufd_hwpt_nested, obj);
	if (mock_domain_is_nested(nested->domain))
		rc = mock_nested_check_iotlb(nested->domain,
					     cmd->check_iotlb.id,
					     cmd->check_iotlb.iotlb);
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}

/*
 * IOMMU_TEST_OP_FAIL_NTH: report whether the previous setting fired and
 * how many events it counted, then arm a new one (nth 0: disarm). The
 * fault points themselves are fault.c's.
 */
static int test_fail_nth(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	u32 nth = cmd->fail_nth.nth, kinds = cmd->fail_nth.kinds;
	struct iommufd_fault_report report;
	int rc;

	if (kinds & ~MOCK_FAULT_ALL)
		return -EOPNOTSUPP;
	if (nth && !kinds)
		return -EINVAL;
	rc = iommufd_fault_set_current(ucmd->ictx, nth, kinds, &report);
	if (rc)
		return rc;
	cmd->fail_nth.out_fired = report.fired;
	cmd->fail_nth.out_seen = report.seen;
	cmd->fail_nth.out_armed_tasks = report.armed_tasks;
	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
}

/* A bound mock device by its device ID (out_idev_id), as upstream finds it. */
static struct iommufd_device *test_get_mock_idev(struct iommufd_ucmd *ucmd,
						 u32 id)
{
	struct iommufd_device *idev;
	struct iommufd_object *obj;

	obj = iommufd_get_object(ucmd->ictx, id, IOMMUFD_OBJ_DEVICE);
	if (IS_ERR(obj))
		return ERR_CAST(obj);
	idev = container_of(obj, struct iommufd_device, obj);
	if (idev->ops != &mock_device_ops) {
		iommufd_put_object(ucmd->ictx, obj);
		return ERR_PTR(-EINVAL);
	}
	return idev;
}

/*
 * IOMMU_TEST_OP_TRIGGER_IOPF and its _PARTIAL extension: the mock device
 * reports a page request, as hardware would through its IOMMU. Upstream's
 * order: the device (ENOENT, EINVAL), then the report, whose outcome
 * upstream drops; ours returns the report's error (ENOMEM, ENOSPC), the
 * device having had its answer.
 */
static int test_trigger_iopf(struct iommufd_ucmd *ucmd, bool last)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct iommu_hwpt_pgfault fault = {
		.pasid = cmd->trigger_iopf.pasid,
		.grpid = cmd->trigger_iopf.grpid,
		.perm = cmd->trigger_iopf.perm,
		.addr = cmd->trigger_iopf.addr,
	};
	struct iommufd_device *idev;
	int rc;

	idev = test_get_mock_idev(ucmd, cmd->trigger_iopf.dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	if (fault.pasid)
		fault.flags |= IOMMU_PGFAULT_FLAGS_PASID_VALID;
	if (last)
		fault.flags |= IOMMU_PGFAULT_FLAGS_LAST_PAGE;
	rc = iommufd_fault_report(idev, &fault);
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}

/* IOMMU_TEST_OP_IOPF_RESPONSES: what the mock device was answered. */
static int test_iopf_responses(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct iommu_test_iopf_response *log;
	unsigned int n = 0;
	struct iommufd_device *idev;
	bool on = false;
	u32 lost = 0;
	int rc = 0;

	cmd->iopf_responses.out_live = iommufd_fault_live();
	if (!cmd->iopf_responses.dev_id) {
		cmd->iopf_responses.n = 0;
		goto out_respond;
	}
	idev = test_get_mock_idev(ucmd, cmd->iopf_responses.dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	log = kcalloc(MOCK_IOPF_LOG_MAX, sizeof(*log), GFP_KERNEL_ACCOUNT);
	if (!log) {
		rc = -ENOMEM;
		goto out_put;
	}
	n = mock_dev_iopf_take(idev->drv_data, log,
			       min_t(u32, cmd->iopf_responses.n,
				     MOCK_IOPF_LOG_MAX), &lost, &on);
	if (copy_to_user(u64_to_user_ptr(cmd->iopf_responses.uptr), log,
			 n * sizeof(*log)))
		rc = -EFAULT;
	kfree(log);
out_put:
	iommufd_put_object(ucmd->ictx, &idev->obj);
	if (rc)
		return rc;
	cmd->iopf_responses.n = n;
	cmd->iopf_responses.out_lost = lost;
	cmd->iopf_responses.out_iopf_on = on;
out_respond:
	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
}

int iommufd_test(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	switch (cmd->op) {
	case IOMMU_TEST_OP_ADD_RESERVED:
		return test_add_reserved(ucmd);
	case IOMMU_TEST_OP_MD_CHECK_REFS:
		return test_check_refs(ucmd);
	case IOMMU_TEST_OP_CREATE_ACCESS:
		return test_create_access(ucmd);
	case IOMMU_TEST_OP_DESTROY_ACCESS_PAGES:
		return test_destroy_access_pages(ucmd);
	case IOMMU_TEST_OP_ACCESS_PAGES:
		return test_access_pages(ucmd);
	case IOMMU_TEST_OP_ACCESS_RW:
		return test_access_rw(ucmd);
	case IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT:
		return test_set_memory_limit(ucmd);
	case IOMMU_TEST_OP_ACCESS_REPLACE_IOAS:
		return test_access_replace_ioas(ucmd);
	case IOMMU_TEST_OP_MOCK_DOMAIN:
		return test_mock_domain(ucmd, 0);
	case IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS:
		return test_mock_domain(ucmd, cmd->mock_domain_flags.dev_flags);
	case IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE:
		return test_mock_domain_replace(ucmd);
	case IOMMU_TEST_OP_MD_CHECK_MAP:
		return test_md_check_map(ucmd);
	case IOMMU_TEST_OP_MOCK_DEVICE_ADD_RESV:
		return test_mock_device_add_resv(ucmd);
	case IOMMU_TEST_OP_MOCK_DOMAIN_SET_LIMIT:
		return test_mock_domain_set_limit(ucmd);
	case IOMMU_TEST_OP_MD_IOPTE_STATS:
		return test_md_iopte_stats(ucmd);
	case IOMMU_TEST_OP_FAIL_NTH:
		return test_fail_nth(ucmd);
	case IOMMU_TEST_OP_DIRTY:
		return test_dirty(ucmd);
	case IOMMU_TEST_OP_MD_CHECK_IOTLB:
		return test_md_check_iotlb(ucmd);
	case IOMMU_TEST_OP_TRIGGER_IOPF:
		return test_trigger_iopf(ucmd, true);
	case IOMMU_TEST_OP_TRIGGER_IOPF_PARTIAL:
		return test_trigger_iopf(ucmd, false);
	case IOMMU_TEST_OP_IOPF_RESPONSES:
		return test_iopf_responses(ucmd);
	default:
		return -EOPNOTSUPP;
	}
}
