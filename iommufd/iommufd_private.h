/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Core structures of the /dev/iommu module, shared by every layer.
 *
 * The files are stacked in layers, written down once, bottom first, in
 * iommufd/LAYERS (drawn in Documentation/object-model.rst): a file uses
 * only files of the layers under its own, and make lint checks it on the
 * built objects. The object table (object.c) and the replies (ucmd.c)
 * sit just above the fault points; the dispatcher (main.c) is on top.
 * Test-only code is compiled only when CONFIG_IOMMUFD_OOT_TEST is set:
 * selftest.c, mock.c (the mock IOMMU driver, used by selftest.c) and
 * fault.c.
 */
#ifndef IOMMUFD_PRIVATE_H
#define IOMMUFD_PRIVATE_H

#include <linux/build_bug.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "../uapi/linux/iommufd.h"
#include "io_pagetable.h"
#include "pages.h"

struct file;
struct page;

/**
 * struct iommufd_ctx - one open of /dev/iommu, or a VFIO container's
 * @users: who keeps the context: its /dev/iommu file (or, for a context
 *	the kernel owns, its VFIO container, kapi.c), each in-kernel access
 *	made on it, and each /dev/iommu file linked to it (@linked). The
 *	last one's iommufd_ctx_unref() destroys every object and frees it.
 * @linked: a /dev/iommu file's own context only: the VFIO container's
 *	context that IOMMU_VFIO_LINK linked the file to, with a reference in
 *	its @users; NULL before. Set once, never cleared until the file's
 *	context is freed; read with iommufd_ctx_serving().
 * @objects: every object of this context by ID. The xarray's own spinlock
 *	(xa_lock) guards the table and the transitions of an object's
 *	@shortterm_users between zero and non-zero (see struct
 *	iommufd_object). Entries that are reserved but not yet finalized,
 *	or that are being destroyed, hold XA_ZERO_ENTRY, which xa_load()
 *	reports as NULL, so lookups never see half-built objects.
 * @destroy_wait: a destroyer sleeps here until the short-term users of
 *	the object it is removing have gone.
 * @account_mode: enum iopt_account_mode for memory mapped from now on
 *	(IOMMU_OPTION_RLIMIT_MODE); only changes while @objects is empty,
 *	checked and set under xa_lock.
 * @pages_cache: pages objects of one-page maps kept for reuse by this
 *	context's IOASes, and the last owner that mapped (struct
 *	iopt_pages_cache); emptied at close, after every object is gone
 * @vfio_ioas: the IOAS the VFIO container ioctls act on (vfio_compat.c),
 *	or NULL. Guarded by xa_lock of @objects. Not a reference: the IOAS's
 *	destroy clears it, under xa_lock, before the IOAS is freed, so a
 *	reader holding xa_lock sees a live IOAS or NULL. Readers take a
 *	short-term reference through the object table and check, under
 *	xa_lock again, that it is still the one chosen.
 * @vfio_type1_exact: the context is a VFIO container of the backend
 *	(kapi.c): its ioctls answer with VFIO type1's errnos and its TYPE1
 *	unmap rule, not upstream iommufd's compat ones (vfio_compat.c). Set
 *	at creation, never changed.
 * @vfio_v1: VFIO_SET_IOMMU chose TYPE1 (v1): with @vfio_type1_exact for
 *	type1's unmap rule, and on both entries to refuse dirty tracking.
 *	Written by VFIO_SET_IOMMU, which VFIO's core calls once before any
 *	other ioctl of the container.
 * @vfio_dirty_lock: guards the three below; a leaf lock, taken under the
 *	IOAS's locks and under the VFIO backend's pin_lock
 * @vfio_soft_dirty: the container's dirty pages that no IOMMU sees, by
 *	IOVA page number: pages emulated devices hold pinned, and pages
 *	pinned or written through them since the last read (vfio_compat.c)
 * @vfio_dirty_on: the container tracks (VFIO_IOMMU_DIRTY_PAGES START)
 * @vfio_dirty_all: a dma_rw write while tracking found no memory for its
 *	mark: every mapped page is dirty until tracking restarts (never
 *	report less than was written)
 *
 * Lock order, outermost first: (no ctx lock) -> xa_lock. Object-specific
 * locks are described next to their objects and are never taken with
 * xa_lock held.
 */
struct iommufd_ctx {
	refcount_t users;
	struct iommufd_ctx *linked;
	struct xarray objects;
	wait_queue_head_t destroy_wait;
	int account_mode;
	struct iopt_pages_cache pages_cache;
	struct iommufd_ioas *vfio_ioas;
	bool vfio_type1_exact;
	bool vfio_v1;
	struct mutex vfio_dirty_lock; /* the three below */
	struct xarray vfio_soft_dirty;
	bool vfio_dirty_on;
	bool vfio_dirty_all;
};

enum iommufd_object_type {
	IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_ANY = IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_IOAS,
	IOMMUFD_OBJ_ACCESS,
	IOMMUFD_OBJ_HWPT_PAGING,
	IOMMUFD_OBJ_HWPT_NESTED,
	IOMMUFD_OBJ_DEVICE,
	IOMMUFD_OBJ_SELFTEST,
	IOMMUFD_OBJ_FAULT,
	IOMMUFD_OBJ_MAX,
};

struct iommufd_object;

/**
 * struct iommufd_object_ops - per-type behaviour, owned by the file that
 *	implements the type (ioas.c, access.c, ...), which passes it to
 *	iommufd_object_alloc(); the object table calls through it and so
 *	needs nothing of the layers above it
 * @destroy: release everything the object owns; called once, after the
 *	object left the table and every user is gone. Must not fail. An
 *	object that is aborted (never finalized) is not destroyed: its
 *	constructor undoes what it did before iommufd_object_abort().
 */
struct iommufd_object_ops {
	void (*destroy)(struct iommufd_object *obj);
};

/**
 * struct iommufd_object - header embedded in every object
 * @users: long-term references. The object table holds one; every other
 *	object that depends on this one (an HWPT on its IOAS, an access on
 *	its IOAS) holds one more. IOMMU_DESTROY refuses with EBUSY while any
 *	reference beyond the table's exists.
 * @shortterm_users: references held for the length of one system call by
 *	iommufd_get_object(). Starts at one (the table's bias). A user's
 *	IOMMU_DESTROY waits, with the object still in its slot, until only
 *	the bias and the references of waiting DESTROYs are left, so a
 *	racing ioctl never turns a DESTROY into a spurious EBUSY and never
 *	finds the object gone while the DESTROY may still fail. Whoever then
 *	removes the object empties the slot, drops the bias and waits for
 *	the count to reach zero, so nobody sees a freed object.
 * @destroyers: user DESTROYs waiting for @shortterm_users to fall; each
 *	holds one short-term reference. Changed under xa_lock; read without
 *	it by iommufd_put_object(), which then wakes them.
 * @type: which kind of object this header belongs to; never changes.
 * @id: the ID userspace knows the object by, unique within one context.
 * @ops: the behaviour of @type, given at allocation by the file that
 *	implements the type; never changes.
 */
struct iommufd_object {
	refcount_t users;
	refcount_t shortterm_users;
	unsigned int destroyers;
	enum iommufd_object_type type;
	u32 id;
	const struct iommufd_object_ops *ops;
};

/**
 * struct iommufd_ucmd - one command being executed
 * @ictx: the context the command was issued on
 * @ubuffer: the caller's struct, to copy results back to; NULL when the
 *	struct came inline in an io_uring SQE
 * @user_size: the size the caller declared in the struct's first field
 * @cmd: the kernel copy of the caller's struct, zero-extended to the size
 *	this module knows
 * @from_uring: submitted through io_uring rather than ioctl()
 * @own_ictx: the context of the file the command came through: @ictx,
 *	unless IOMMU_VFIO_LINK linked the file to a container's context
 * @nowait: io_uring's nonblocking issue (IO_URING_F_NONBLOCK): the
 *	handler must not sleep, and returns -EAGAIN, having changed nothing,
 *	where it would; io_uring then issues the command again from a
 *	worker, without @nowait. Only handlers marked nowait-capable in
 *	main.c's table ever see it set.
 *
 * main.c fills it in; the handlers read it and reply through ucmd.c.
 */
struct iommufd_ucmd {
	struct iommufd_ctx *ictx;
	struct iommufd_ctx *own_ictx;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
	bool from_uring;
	bool nowait;
};

/* Command replies, ucmd.c */
int iommufd_ucmd_copy_out(struct iommufd_ucmd *ucmd, size_t cmd_len);

/*
 * Copy the (possibly extended) command struct back to the caller. A
 * struct that came inline in an io_uring SQE has nowhere to go back to:
 * the dispatcher refuses inline commands whose reply the caller needs,
 * so what is dropped here is only ever what the CQE's result implies.
 * Inline, as every command ends here and batched ones mostly come inline.
 */
static inline int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd,
				       size_t cmd_len)
{
	if (!ucmd->ubuffer)
		return 0;
	return iommufd_ucmd_copy_out(ucmd, cmd_len);
}

/*
 * The result of a command that made object @id: 0, as the ioctl returns,
 * or, for a struct that came inline in an io_uring SQE and so has no
 * reply, the ID itself, which the CQE's res then carries (IDs are below
 * 2^31).
 */
static inline int iommufd_ucmd_new_id(struct iommufd_ucmd *ucmd, u32 id)
{
	return ucmd->ubuffer ? 0 : id;
}

/* Contexts, ctx.c */
struct iommufd_ctx *iommufd_ctx_alloc(void);
void iommufd_ctx_ref(struct iommufd_ctx *ictx);
void iommufd_ctx_unref(struct iommufd_ctx *ictx);

/*
 * The context the commands of a /dev/iommu file act on: its own, or,
 * once IOMMU_VFIO_LINK linked it, the VFIO container's. Pairs with the
 * release in link.c, which publishes @linked fully made; either context
 * lives as long as the file.
 */
static inline struct iommufd_ctx *iommufd_ctx_serving(struct iommufd_ctx *own)
{
	/* Acquire: pairs with link.c's cmpxchg_release() of @linked. */
	struct iommufd_ctx *linked = smp_load_acquire(&own->linked);

	return linked ? linked : own;
}

/* Object table, object.c */
void iommufd_objects_init(struct iommufd_ctx *ictx);
void iommufd_objects_destroy_all(struct iommufd_ctx *ictx);
struct iommufd_object *
iommufd_object_alloc_elm(struct iommufd_ctx *ictx, size_t size,
			 enum iommufd_object_type type,
			 const struct iommufd_object_ops *ops);
/*
 * Allocate an object of the type @ptr points to, with @ops, its type's
 * behaviour. Every object struct embeds its struct iommufd_object header
 * as its first member (checked with static_assert next to each struct),
 * so the header's address is the object's address.
 */
#define iommufd_object_alloc(ictx, ptr, type, ops)                            \
	((typeof(ptr))iommufd_object_alloc_elm(ictx, sizeof(*(ptr)), type, ops))
void iommufd_object_finalize(struct iommufd_ctx *ictx,
			     struct iommufd_object *obj);
void iommufd_object_abort(struct iommufd_ctx *ictx,
			  struct iommufd_object *obj);
struct iommufd_object *iommufd_get_object(struct iommufd_ctx *ictx, u32 id,
					  enum iommufd_object_type type);

/* Drop the reference of iommufd_get_object(); inline, as every command does. */
static inline void iommufd_put_object(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj)
{
	/* Only a remover, who dropped the bias, can see the count hit 0. */
	if (refcount_dec_and_test(&obj->shortterm_users)) {
		wake_up_all(&ictx->destroy_wait);
		return;
	}
	/* Pairs with the barrier of the DESTROY's wait (set_current_state). */
	smp_mb__after_atomic();
	if (unlikely(READ_ONCE(obj->destroyers)))
		wake_up_all(&ictx->destroy_wait);
}

int iommufd_destroy(struct iommufd_ucmd *ucmd);
void iommufd_object_destroy_owned(struct iommufd_ctx *ictx,
				  struct iommufd_object *obj);
bool iommufd_object_put_owned(struct iommufd_ctx *ictx,
			      struct iommufd_object *obj);

/**
 * struct iommufd_ioas - an I/O address space object
 * @obj: the object header
 * @ictx: the context; it outlives every object in it
 * @iopt: the address space; its own locks guard it
 * @mutex: guards @auto_hwpts and the device count of every HWPT on this
 *	IOAS, and serialises attaching devices to it, so two devices never
 *	create two compatible automatic domains. Lock order:
 *	iommufd_device lock -> ioas mutex -> domains_rwsem.
 * @auto_hwpts: struct iommufd_hwpt_paging made automatically for devices
 *	attached straight to this IOAS, tried first by later devices
 * @noncoherent_hwpts: HWPTs on this IOAS whose domain does not enforce
 *	cache coherency (VFIO_DMA_CC_IOMMU); guarded by @mutex
 * @hwpts: every struct iommufd_hwpt_paging of this IOAS; guarded by @mutex
 * @container_dirty: the VFIO container on this IOAS tracks dirty pages
 *	(VFIO_IOMMU_DIRTY_PAGES_FLAG_START): a new HWPT starts tracking at
 *	once where it can; guarded by @mutex
 */
struct iommufd_ioas {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct io_pagetable iopt;
	struct mutex mutex; /* auto_hwpts, device attach */
	struct list_head auto_hwpts;
	unsigned int noncoherent_hwpts;
	struct list_head hwpts;
	bool container_dirty;
};

static_assert(offsetof(struct iommufd_ioas, obj) == 0);

struct iommufd_ioas *iommufd_get_ioas(struct iommufd_ctx *ictx, u32 id);
struct iommufd_ioas *iommufd_ioas_alloc(struct iommufd_ctx *ictx,
					bool windowed);
int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd);
int iommufd_ioas_map(struct iommufd_ucmd *ucmd);
int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd);
int iommufd_ioas_copy(struct iommufd_ucmd *ucmd);
int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd);
int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd);
int iommufd_option(struct iommufd_ucmd *ucmd);
int iommufd_ioas_create_window(struct iommufd_ucmd *ucmd);
int iommufd_ioas_remove_window(struct iommufd_ucmd *ucmd);
int iommufd_ioas_list_windows(struct iommufd_ucmd *ucmd);

/**
 * struct iommufd_access_ops - what an in-kernel DMA user provides
 * @unmap: called when userspace unmaps [iova, iova + length - 1] while the
 *	access may have pages pinned there; must unpin them before
 *	returning. NULL for accesses that only read and write (no pinning).
 */
struct iommufd_access_ops {
	void (*unmap)(void *data, unsigned long iova, unsigned long length);
};

/**
 * struct iommufd_access - an in-kernel DMA user of one IOAS
 * @obj: the object header; the creator owns one extra reference, so only
 *	iommufd_access_destroy() ends an access
 * @ictx: the context; the access holds a reference on it (its @users),
 *	so the context outlives every access made on it
 * @ops: the user's callbacks
 * @data: the user's cookie for @ops
 * @ioas_lock: guards @moving and @npins; held across pin, unpin and rw,
 *	so @ioas cannot change under them. Lock order: (the user's own
 *	locks) -> ioas_lock -> iova_rwsem.
 * @replace_lock: held across the whole of iommufd_access_replace(), so
 *	replaces of one access never interleave; never taken by pin, unpin
 *	or rw. Lock order: replace_lock -> iopt users_lock -> (the user's
 *	locks, in its unmap callback) -> ioas_lock.
 * @ioas: the IOAS the access works on; holds a long-term reference.
 *	Written with both @replace_lock and @ioas_lock held, read with
 *	either.
 * @user: registration with @ioas's io_pagetable for unmap callbacks;
 *	locked as @ioas
 * @moving: a replace is taking the pins back; pinning fails with -EBUSY
 *	until the access works on the new IOAS
 * @npins: successful pins not yet unpinned. All of them are on @ioas: a
 *	replace changes @ioas only while this is zero and @moving is set.
 *
 * The unmap callback runs without @ioas_lock (it unpins, which takes
 * it), so a replace cannot hold that lock throughout; @replace_lock
 * serialises it, and @moving keeps pins off the IOAS being left.
 */
struct iommufd_access {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	const struct iommufd_access_ops *ops;
	void *data;
	struct mutex ioas_lock; /* moving, npins; see above */
	struct mutex replace_lock; /* ioas, user changes */
	struct iommufd_ioas *ioas;
	struct iopt_user *user;
	bool moving;
	unsigned long npins;
};

static_assert(offsetof(struct iommufd_access, obj) == 0);

struct iommufd_access *
iommufd_access_create(struct iommufd_ctx *ictx, u32 ioas_id,
		      const struct iommufd_access_ops *ops, void *data);
void iommufd_access_destroy(struct iommufd_access *access);
int iommufd_access_replace(struct iommufd_access *access, u32 ioas_id);
int iommufd_access_pin_pages(struct iommufd_access *access,
			     unsigned long iova, unsigned long length,
			     struct page **out, bool write);
void iommufd_access_unpin_pages(struct iommufd_access *access,
				unsigned long iova, unsigned long length);
int iommufd_access_rw(struct iommufd_access *access, unsigned long iova,
		      void *data, unsigned long length, unsigned int flags);

struct iommufd_device;
struct iommufd_fault_queue;
struct iommu_domain;
struct iommufd_user_data;
struct iommufd_user_array;

/**
 * struct iommufd_device_ops - what a device's IOMMU driver provides
 * @domain_alloc_paging: a new, empty paging domain the device can use;
 *	@flags is 0 or IOMMU_HWPT_ALLOC_DIRTY_TRACKING (only when
 *	@dirty_capable says so), which asks for a domain that can track
 *	dirty pages and refuses to attach (-EINVAL) devices that cannot
 * @domain_free: free a domain from @domain_alloc_paging
 * @attach: make the device translate through @domain, replacing any
 *	domain it had without a window of no translation; -EINVAL if the
 *	device cannot use @domain
 * @detach: stop translating: the device is blocked from DMA
 * @hw_info: describe the IOMMU for IOMMU_GET_HW_INFO; returns kmalloc()ed
 *	data of *@len bytes and its IOMMU_HW_INFO_TYPE_* in *@type
 * @max_pasid_log2: optional: how many PASID bits the device supports
 *	(IOMMU_GET_HW_INFO's out_max_pasid_log2); 0, or no callback, for a
 *	device without PASID support
 * @enforce_cache_coherency: optional: make @domain, new and not yet
 *	used, enforce cache coherency for DMA of the device (no snoop
 *	bypass); true if it now does. No callback: it does not.
 * @dirty_capable: optional: the device's IOMMU can record which pages
 *	its DMA wrote (IOMMU_HW_CAP_DIRTY_TRACKING). No callback: it cannot.
 * @set_dirty_tracking: optional: start or stop recording writes in
 *	@domain; -EOPNOTSUPP if @domain cannot (not made for a device that
 *	can, or a device that cannot is attached). Needed with
 *	@dirty_capable.
 * @read_and_clear_dirty: optional, with @set_dirty_tracking: record the
 *	written IOPTEs of [@iova, @iova + @length - 1], all mapped, into
 *	@dirty (dirty.h; a large IOPTE records every page under it) and
 *	clear their dirty state unless @flags has
 *	IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR. With @dirty NULL only clear.
 *	-EINVAL if @dirty is given while tracking is off. May sleep between
 *	IOPTEs; must not touch user memory.
 * @domain_alloc_nested: optional: a nested domain (Documentation/nesting.rst)
 *	whose first stage userspace describes in @data (never empty) and
 *	whose second stage is @parent, a paging domain of this driver
 *	allocated as a nest parent. @flags is 0 for now (IOMMU_HWPT_FAULT_ID_VALID
 *	is the core's). Errors as upstream's drivers: -EOPNOTSUPP for a
 *	data type or flag the driver does not know, iommufd_user_data_copy()'s
 *	for the blob. No callback: the device cannot nest, and cannot
 *	have a nest parent either.
 * @cache_invalidate: with @domain_alloc_nested: flush what @domain, a
 *	nested domain of this driver, caches of its first stage, as the
 *	entries of @array ask, in order; sets @array->entry_num to how many
 *	it handled before the first that failed. -EINVAL for another data
 *	type (also with no entry). May sleep; reschedules in long arrays.
 *
 * Nested domains are freed with @domain_free too, and @attach takes them:
 * the device then translates through the nested domain's first stage and
 * its parent's second.
 * @iopf_enable: optional: let the device report I/O page faults (PCI
 *	PRI), before it attaches to an HWPT with a fault queue. No callback:
 *	it cannot, and such an attach fails with -ENODEV, the errno the
 *	kernel's iommu_dev_enable_feature() gives for an IOMMU without the
 *	feature. Called under the device's lock.
 * @iopf_disable: with @iopf_enable: the device leaves the last HWPT with a
 *	fault queue; it reports no more faults. Under the device's lock.
 * @page_response: with @iopf_enable: answer the fault group whose last
 *	fault was @last with @code (enum iommufd_page_response_code, or
 *	IOMMUFD_PAGE_RESP_FAILURE when the module could not queue the group).
 *	Called with a fault queue's mutex held; must not sleep on anything
 *	the module holds.
 *
 * Dirty tracking needs a bitmap the driver can record into. A real IOMMU
 * driver records through the kernel's iova_bitmap, which Debian's kernels
 * build only with CONFIG_IOMMUFD_DRIVER (neither does), so real devices
 * report no dirty capability here (compat.h, Documentation/dirty-tracking.rst).
 *
 * This is the seam where a real IOMMU backend (the kernel's own paging
 * domain allocation for a struct device) plugs in next to the mock.
 */
struct iommufd_device_ops {
	struct iommu_domain *(*domain_alloc_paging)(struct iommufd_device *idev,
						    u32 flags);
	void (*domain_free)(struct iommu_domain *domain);
	int (*attach)(struct iommufd_device *idev, struct iommu_domain *domain);
	void (*detach)(struct iommufd_device *idev);
	void *(*hw_info)(struct iommufd_device *idev, u32 *len, u32 *type);
	u8 (*max_pasid_log2)(struct iommufd_device *idev);
	bool (*enforce_cache_coherency)(struct iommufd_device *idev,
					struct iommu_domain *domain);
	bool (*dirty_capable)(struct iommufd_device *idev);
	int (*set_dirty_tracking)(struct iommu_domain *domain, bool enable);
	int (*read_and_clear_dirty)(struct iommu_domain *domain,
				    unsigned long iova, unsigned long length,
				    unsigned long flags,
				    struct iommufd_dirty_bits *dirty);
	struct iommu_domain *
	(*domain_alloc_nested)(struct iommufd_device *idev,
			       struct iommu_domain *parent, u32 flags,
			       const struct iommufd_user_data *data);
	int (*cache_invalidate)(struct iommu_domain *domain,
				struct iommufd_user_array *array);
	int (*iopf_enable)(struct iommufd_device *idev);
	void (*iopf_disable)(struct iommufd_device *idev);
	void (*page_response)(struct iommufd_device *idev,
			      const struct iommu_hwpt_pgfault *last, u32 code);
};

/**
 * struct iommufd_hwpt_paging - an HW page table: one iommu_domain that
 *	mirrors an IOAS
 * @obj: the object header. Devices attached hold long-term references.
 * @ictx: the context
 * @ioas: the IOAS mirrored; a long-term reference is held
 * @domain: the domain, in @ioas's io_pagetable for its whole life
 * @ops: the driver that allocated @domain, to free it
 * @auto_domain: made for a device attached straight to the IOAS; it is
 *	destroyed when its last device leaves
 * @enforce_cache_coherency: the device's driver made @domain enforce
 *	cache coherency when it was allocated; counted in @ioas otherwise
 * @unfilled: @domain is not in @ioas's io_pagetable yet: its driver sets
 *	it up (page sizes, aperture) only at its first attach (virtio-iommu
 *	before 6.13), so it could not be filled when made. The first attach
 *	fills it (device_attach_hwpt()). Guarded by @ioas's mutex.
 * @devices: devices attached or attaching, and holders from
 *	iommufd_hwpt_hold(), each with a long-term reference in @obj that
 *	it takes and drops with the count; guarded by @ioas's mutex
 * @nest_parent: allocated with IOMMU_HWPT_ALLOC_NEST_PARENT: nested HWPTs
 *	may use it as their second stage (each holds a reference); fixed
 * @dirty_tracking: allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING, so
 *	IOMMU_HWPT_SET_DIRTY_TRACKING and GET_DIRTY_BITMAP work on it
 * @dirty_enabled: the domain records writes now; guarded by @ioas's mutex
 * @container_dirty: the VFIO container's tracking (vfio_compat.c) has
 *	had @dirty_enabled on since it started, so the domain's bits are
 *	complete; guarded by @ioas's mutex
 * @ioas_node: in the IOAS's hwpts list, from creation to destruction
 * @auto_node: an automatic HWPT is in the IOAS's auto_hwpts list
 *	(guarded by its mutex) from creation until @devices drops to zero;
 *	off the list it is being destroyed and takes no device. Only the
 *	creating attach sees it listed with no device, under that mutex.
 *
 * An automatic HWPT's life is decided under the IOAS's mutex alone:
 * devices join (iommufd_hwpt_get_locked()) and leave (iommufd_hwpt_put())
 * under it, so a join never races the last leave.
 */
struct iommufd_hwpt_paging {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct iommufd_ioas *ioas;
	struct iommu_domain *domain;
	const struct iommufd_device_ops *ops;
	bool auto_domain;
	bool enforce_cache_coherency;
	bool unfilled;
	bool nest_parent;
	bool dirty_tracking;
	bool dirty_enabled;
	bool container_dirty;
	unsigned int devices;
	struct list_head ioas_node;
	struct list_head auto_node;
};

static_assert(offsetof(struct iommufd_hwpt_paging, obj) == 0);

/**
 * struct iommufd_hwpt_nested - a nested HW page table: a first stage that
 *	userspace owns (a guest's page table, described to the driver by
 *	IOMMU_HWPT_ALLOC's data), translated through a nest-parent paging
 *	HWPT as its second stage (hwpt_nested.c)
 * @obj: the object header. Devices attached hold long-term references.
 * @ictx: the context
 * @parent: the second stage; a long-term reference is held, so the
 *	parent cannot be destroyed (EBUSY) while this exists. Fixed.
 * @domain: the driver's nested domain; it maps nothing of its own in
 *	this module: the IOAS of @parent is what its DMA finally reaches
 * @ops: the driver that allocated @domain, to free and invalidate it
 * @fault: the fault queue of IOMMU_HWPT_FAULT_ID_VALID, with a reference,
 *	or NULL: the I/O page faults of devices attached go there
 *
 * Nothing here changes after creation; the driver guards @domain's own
 * state (its IOTLB, say).
 */
struct iommufd_hwpt_nested {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct iommufd_hwpt_paging *parent;
	struct iommu_domain *domain;
	const struct iommufd_device_ops *ops;
	struct iommufd_fault_queue *fault;
};

static_assert(offsetof(struct iommufd_hwpt_nested, obj) == 0);

/**
 * struct iommufd_device - a device whose DMA goes through this context
 * @obj: the object header; the driver that bound it owns a reference
 * @ictx: the context; the driver that bound the device keeps it alive
 * @ops: the device's IOMMU driver
 * @drv_data: the driver's cookie
 * @lock: guards @hwpt, @nested, @resv and the IOPF state below,
 *	serialising attach, replace, detach and fault reports. Lock order:
 *	@lock -> IOAS mutex, and @lock -> fault queue mutex.
 * @hwpt: the paging HW page table the device translates through, or NULL
 *	(blocked); a long-term reference is held. With @nested, @nested's
 *	parent: the device's reserved regions live in its IOAS.
 * @nested: the nested HWPT the device is attached to, or NULL; a
 *	long-term reference is held. Its domain is the one attached.
 * @resv: reserved IOVA regions of the device (e.g. its MSI window), which
 *	the attached IOAS must never map; struct iopt_range array
 * @nresv: entries in @resv
 * @fault: the fault queue of the HWPT the device is attached to, where
 *	its I/O page faults go, or NULL (IOPF off); guarded by @lock and
 *	changed only by fault_queue.c, which answers every fault group of
 *	the device in the queue it leaves
 * @iopf_partial: faults of groups whose last fault has not come yet
 *	(struct iommufd_fault_partial, fault_queue.c); guarded by @lock
 * @iopf_npartial: entries in @iopf_partial
 */
struct iommufd_device {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	const struct iommufd_device_ops *ops;
	void *drv_data;
	struct mutex lock; /* hwpt, resv, nresv */
	struct iommufd_hwpt_paging *hwpt;
	struct iommufd_hwpt_nested *nested;
	struct iopt_range *resv;
	unsigned int nresv;
	struct iommufd_fault_queue *fault;
	struct list_head iopf_partial;
	unsigned int iopf_npartial;
};

static_assert(offsetof(struct iommufd_device, obj) == 0);

struct iommufd_device *iommufd_device_bind(struct iommufd_ctx *ictx,
					   const struct iommufd_device_ops *ops,
					   void *drv_data);
void iommufd_device_unbind(struct iommufd_device *idev);
int iommufd_device_attach(struct iommufd_device *idev, u32 pt_id,
			  u32 *out_hwpt_id);
int iommufd_device_add_resv(struct iommufd_device *idev, unsigned long start,
			    unsigned long last);
void iommufd_device_detach(struct iommufd_device *idev);
int iommufd_device_attach_ioctl(struct iommufd_ucmd *ucmd);
int iommufd_get_hw_info(struct iommufd_ucmd *ucmd);

struct iommufd_hwpt_paging *
iommufd_hwpt_paging_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
			  struct iommufd_device *idev, u32 flags,
			  bool auto_domain, bool attach_first);
void iommufd_hwpt_paging_abort(struct iommufd_hwpt_paging *hwpt);
int iommufd_hwpt_fill_locked(struct iommufd_hwpt_paging *hwpt);
bool iommufd_hwpt_get_locked(struct iommufd_hwpt_paging *hwpt);
void iommufd_hwpt_unget_locked(struct iommufd_hwpt_paging *hwpt);
void iommufd_hwpt_hold(struct iommufd_hwpt_paging *hwpt);
void iommufd_hwpt_put(struct iommufd_hwpt_paging *hwpt);
int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd);

/* Nested HWPTs, hwpt_nested.c */
struct iommufd_hwpt_nested *
iommufd_hwpt_nested_alloc(struct iommufd_ctx *ictx,
			  struct iommufd_hwpt_paging *parent,
			  struct iommufd_device *idev, u32 flags,
			  const struct iommufd_user_data *data);
void iommufd_hwpt_nested_abort(struct iommufd_hwpt_nested *nested);
void iommufd_hwpt_nested_get(struct iommufd_hwpt_nested *nested);
void iommufd_hwpt_nested_put(struct iommufd_hwpt_nested *nested);
int iommufd_hwpt_invalidate(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_set_dirty_tracking(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_get_dirty_bitmap(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_dirty_enable_locked(struct iommufd_hwpt_paging *hwpt,
				     bool enable);
int iommufd_hwpt_dirty_read_fn(void *ctx, unsigned long iova,
			       unsigned long length, unsigned long flags,
			       struct iommufd_dirty_bits *dirty);

/* main.c: a marker both builds export, so only one loads (see there). */
extern const char *const iommufd_oot_dev_iommu;
/* main.c: the same against the in-tree iommufd.ko (see there). */
#if !IS_ENABLED(CONFIG_IOMMUFD)
extern const char *const iommufd_ctx_get;
#endif

/* IOMMU_VFIO_LINK, link.c */
int iommufd_vfio_link(struct iommufd_ucmd *ucmd);

/* Test command, selftest.c; compiled only into test builds */
#ifdef CONFIG_IOMMUFD_OOT_TEST
int iommufd_test(struct iommufd_ucmd *ucmd);
#endif

#endif
