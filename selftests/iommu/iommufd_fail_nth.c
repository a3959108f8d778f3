// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection: every operation is run with its Nth fault event (an
 * allocation, a pin, a user copy or an iommu_map(), see
 * IOMMU_TEST_OP_FAIL_NTH) failing, for N = 1, 2, 3, ... until it runs
 * without reaching the Nth event. Each failed run must return an error
 * and undo everything: the IOVA ranges, what is mapped where (a probe
 * map, MD_CHECK_MAP on every mock HWPT), the pin counts of the buffers,
 * VmPin, VmLck and the object IDs must be exactly as before the call. The
 * run that gets through must then have done its whole job.
 *
 * Every test runs without a domain, with one and two mock domains, and
 * with a huge-IOVA mock domain over memory backed by a transparent huge
 * page.
 */
#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "iommufd_utils.h"

#define PAGE_SZ 4096UL
#define SZ_64K 0x10000UL
#define SZ_2M 0x200000UL
/* Inside the mock aperture, 2M aligned: mapped before, target, probe. */
#define IOVA_OLD 0x4000000UL
#define IOVA_NEW 0x8000000UL
#define IOVA_PROBE 0xc000000UL
#define RW (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)
#define FIXED_RW (IOMMU_IOAS_MAP_FIXED_IOVA | RW)
#define PIN_ACCESS MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES
#define MAX_DOMAINS 2
#define MAX_RANGES 16
/* No operation here has anywhere near this many fault events. */
#define MAX_NTH 20000
/* Pin counts are not measurable on huge pages: MD_CHECK_REFS skips them. */
#define REFS_UNKNOWN 0xffffffffu

struct snapshot {
	struct iommu_iova_range ranges[MAX_RANGES];
	__u32 nranges;
	__u64 alignment;
	long vm_pin;
	long vm_lck;
	__u32 old_refs;
	__u32 new_refs;
};

FIXTURE(fail_nth)
{
	int fd;
	__u32 ioas_id;
	__u32 stdev_id[MAX_DOMAINS];
	__u32 hwpt_id[MAX_DOMAINS];
	int ndomains;
	size_t len;
	bool huge;
	/* Mapped at IOVA_OLD for the whole test. */
	void *old_buf;
	/* What the operation under test maps, or has mapped. */
	void *new_buf;
	/* One page the state checks map and unmap at IOVA_PROBE. */
	void *probe_buf;
	/* The ID the next new object must get if none leaked. */
	__u32 next_id;
	/* Fault runs of the last fail_walk(), for the log. */
	unsigned int runs;
};

FIXTURE_VARIANT(fail_nth)
{
	int domains;
	__u32 dev_flags;
	bool huge;
};

#define fnth_t FIXTURE_DATA(fail_nth)
#define fnth_variant_t FIXTURE_VARIANT(fail_nth)

FIXTURE_VARIANT_ADD(fail_nth, no_domain)
{
	.domains = 0,
};

FIXTURE_VARIANT_ADD(fail_nth, mock_domain)
{
	.domains = 1,
};

FIXTURE_VARIANT_ADD(fail_nth, two_mock_domains)
{
	.domains = 2,
};

FIXTURE_VARIANT_ADD(fail_nth, huge_mock_domain)
{
	.domains = 1,
	.dev_flags = MOCK_FLAGS_DEVICE_HUGE_IOVA,
	.huge = true,
};

/*
 * @len bytes of written anonymous memory: small pages, or 2M aligned and
 * backed by a transparent huge page when THP allows it (then physically
 * contiguous, so a huge-IOVA domain uses its large IOPTEs).
 */
static void *buf_alloc(size_t len, bool huge, unsigned int seed)
{
	size_t room = huge ? len + SZ_2M : len;
	unsigned char *raw, *buf;
	size_t i;

	raw = mmap(NULL, room, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	buf = raw;
	if (huge) {
		buf = (unsigned char *)(((uintptr_t)raw + SZ_2M - 1) &
					~(SZ_2M - 1));
		madvise(buf, len, MADV_HUGEPAGE);
	} else {
		madvise(buf, len, MADV_NOHUGEPAGE);
	}
	for (i = 0; i < len; i++)
		buf[i] = seed + i * 7 + (i >> 12);
	return buf;
}

/* How many times every page of @buf is pinned, or REFS_UNKNOWN. */
static __u32 refs_of(int fd, void *buf, size_t len, bool huge)
{
	__u32 refs;

	if (huge)
		return REFS_UNKNOWN;
	for (refs = 0; refs < 8; refs++)
		if (!tcmd_check_refs(fd, buf, len, refs))
			return refs;
	return REFS_UNKNOWN - 1;
}

static int snapshot_take(fnth_t *self, __u32 ioas_id,
			 struct snapshot *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->nranges = MAX_RANGES;
	rc = ioas_iova_ranges(self->fd, ioas_id, s->ranges, &s->nranges,
			      &s->alignment);
	if (rc)
		return rc;
	s->vm_pin = proc_status_kb("VmPin");
	s->vm_lck = proc_status_kb("VmLck");
	s->old_refs = refs_of(self->fd, self->old_buf, self->len, self->huge);
	s->new_refs = refs_of(self->fd, self->new_buf, self->len, self->huge);
	return 0;
}

/* Describe the first difference between two snapshots, or return 0. */
static int snapshot_diff(struct __test_metadata *_metadata,
			 const struct snapshot *a, const struct snapshot *b)
{
	if (a->nranges != b->nranges ||
	    memcmp(a->ranges, b->ranges, a->nranges * sizeof(a->ranges[0]))) {
		TH_LOG("IOVA ranges changed (%u -> %u ranges)", a->nranges,
		       b->nranges);
		return -1;
	}
	if (a->alignment != b->alignment) {
		TH_LOG("IOVA alignment changed 0x%llx -> 0x%llx",
		       (unsigned long long)a->alignment,
		       (unsigned long long)b->alignment);
		return -1;
	}
	if (a->vm_pin != b->vm_pin || a->vm_lck != b->vm_lck) {
		TH_LOG("VmPin %ld -> %ld kB, VmLck %ld -> %ld kB", a->vm_pin,
		       b->vm_pin, a->vm_lck, b->vm_lck);
		return -1;
	}
	if (a->old_refs != b->old_refs || a->new_refs != b->new_refs) {
		TH_LOG("pin counts changed: old %u -> %u, new %u -> %u",
		       a->old_refs, b->old_refs, a->new_refs, b->new_refs);
		return -1;
	}
	return 0;
}

/* 0 if @iova of @ioas_id is mapped, per a probe map that must clash. */
static int probe_mapped(fnth_t *self, __u32 ioas_id,
			__u64 iova)
{
	int rc = ioas_map_fixed(self->fd, ioas_id, self->probe_buf, PAGE_SZ,
				iova);

	if (rc == -EEXIST)
		return 0;
	if (!rc)
		ioas_unmap(self->fd, ioas_id, iova, PAGE_SZ, NULL);
	return -1;
}

/*
 * 0 if [@iova, +@len) of @ioas_id is free: a map of one page there
 * succeeds, reaches every mock domain, and unmaps again.
 */
static int probe_free(fnth_t *self, __u32 ioas_id, __u64 iova,
		      bool check_domains)
{
	__u64 unmapped = 0;
	int i, rc;

	rc = ioas_map_fixed(self->fd, ioas_id, self->probe_buf, PAGE_SZ, iova);
	if (rc)
		return rc;
	for (i = 0; check_domains && i < self->ndomains && !rc; i++)
		rc = tcmd_check_map(self->fd, self->hwpt_id[i], iova,
				    self->probe_buf, PAGE_SZ);
	if (ioas_unmap(self->fd, ioas_id, iova, PAGE_SZ, &unmapped) ||
	    unmapped != PAGE_SZ)
		return -EIO;
	return rc;
}

/* 0 if no object was left behind: a new IOAS gets the expected ID. */
static int probe_no_new_object(fnth_t *self)
{
	__u32 id;
	int rc;

	rc = ioas_alloc(self->fd, &id);
	if (rc)
		return rc;
	iommufd_destroy(self->fd, id);
	return id == self->next_id ? 0 : -1;
}

/* The ID the next object will get; call after setting up the test. */
static void learn_next_id(fnth_t *self)
{
	ioas_alloc(self->fd, &self->next_id);
	iommufd_destroy(self->fd, self->next_id);
}

/*
 * The main IOAS is as it was: the old buffer at IOVA_OLD in every mock
 * domain, the new one at IOVA_NEW exactly when @new_mapped, IOVA_PROBE
 * free, nothing else pinned, no object left over, and @before matches.
 */
static int check_unchanged(struct __test_metadata *_metadata,
			   fnth_t *self,
			   const struct snapshot *before, bool new_mapped)
{
	struct snapshot now;
	int i;

	if (snapshot_take(self, self->ioas_id, &now)) {
		TH_LOG("IOVA_RANGES failed after the fault");
		return -1;
	}
	if (snapshot_diff(_metadata, before, &now))
		return -1;
	for (i = 0; i < self->ndomains; i++) {
		if (tcmd_check_map(self->fd, self->hwpt_id[i], IOVA_OLD,
				   self->old_buf, self->len)) {
			TH_LOG("domain %d lost the old mapping", i);
			return -1;
		}
		if (new_mapped &&
		    tcmd_check_map(self->fd, self->hwpt_id[i], IOVA_NEW,
				   self->new_buf, self->len)) {
			TH_LOG("domain %d lost the new mapping", i);
			return -1;
		}
	}
	if (probe_mapped(self, self->ioas_id, IOVA_OLD)) {
		TH_LOG("IOVA_OLD is no longer mapped");
		return -1;
	}
	if (new_mapped ? probe_mapped(self, self->ioas_id, IOVA_NEW) :
			 probe_free(self, self->ioas_id, IOVA_NEW, true)) {
		TH_LOG("IOVA_NEW is %s", new_mapped ? "no longer mapped" :
						      "mapped or broken");
		return -1;
	}
	if (probe_free(self, self->ioas_id, IOVA_PROBE, true)) {
		TH_LOG("a probe map at IOVA_PROBE failed");
		return -1;
	}
	if (tcmd_check_refs(self->fd, self->probe_buf, PAGE_SZ, 0)) {
		TH_LOG("the probe page stayed pinned");
		return -1;
	}
	if (probe_no_new_object(self)) {
		TH_LOG("an object was left behind");
		return -1;
	}
	return 0;
}

/* One operation under test, and what must hold after it failed. */
struct fail_op {
	int (*run)(fnth_t *self, void *arg);
	/* Extra checks after a failure; 0 if all is well. */
	int (*unchanged)(struct __test_metadata *_metadata,
			 fnth_t *self, void *arg);
	void *arg;
	/* Is the new buffer mapped at IOVA_NEW before the operation? */
	bool new_mapped;
	/* Skip the main IOAS checks (the operation works elsewhere). */
	bool other_ioas;
	/*
	 * The result (bytes unmapped) exists only once the work is done,
	 * which cannot be undone: a fault in copying it out may leave the
	 * operation done, as upstream does. Then @committed must say so.
	 */
	int (*committed)(fnth_t *self, void *arg);
};

/*
 * Run @op with fault event N failing, N = 1, 2, ..., until it gets
 * through; 0 when it then succeeded and every failure left no trace.
 */
static int fail_walk(struct __test_metadata *_metadata,
		     fnth_t *self, const struct fail_op *op)
{
	struct snapshot before;
	unsigned int n;
	int fired, rc;

	learn_next_id(self);
	if (snapshot_take(self, self->ioas_id, &before))
		return -1;
	for (n = 1; n <= MAX_NTH; n++) {
		if (fail_nth_arm(self->fd, n, MOCK_FAULT_ALL)) {
			TH_LOG("cannot arm FAIL_NTH");
			return -1;
		}
		rc = op->run(self, op->arg);
		if (fail_nth_disarm(self->fd, &fired)) {
			TH_LOG("cannot disarm FAIL_NTH");
			return -1;
		}
		if (!fired) {
			if (rc)
				TH_LOG("failed with %d (%s) and no fault", rc,
				       strerror(-rc));
			self->runs = n;
			return rc;
		}
		if (!rc) {
			TH_LOG("fault %u fired, yet the operation returned 0",
			       n);
			return -1;
		}
		if (rc == -EFAULT && op->committed &&
		    !op->committed(self, op->arg)) {
			/* Done, result lost: nothing is left to walk. */
			self->runs = n;
			return 0;
		}
		if ((!op->other_ioas &&
		     check_unchanged(_metadata, self, &before,
				     op->new_mapped)) ||
		    (op->unchanged && op->unchanged(_metadata, self, op->arg))) {
			TH_LOG("... after fault %u (error %d, %s)", n, rc,
			       strerror(-rc));
			return -1;
		}
	}
	TH_LOG("still hitting faults after %u runs", MAX_NTH);
	return -1;
}

FIXTURE_SETUP(fail_nth)
{
	__u32 fired, idev_id = 0;
	int i;

	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	if (!iommufd_is_test_build(self->fd))
		SKIP(return, "not a test build of the module");
	/* Nothing armed from before, and disarm reports nothing fired. */
	ASSERT_EQ(0, tcmd_fail_nth(self->fd, 0, 0, &fired, NULL));
	self->huge = variant->huge;
	self->len = variant->huge ? SZ_2M : SZ_64K;
	self->old_buf = buf_alloc(self->len, self->huge, 1);
	self->new_buf = buf_alloc(self->len, self->huge, 2);
	self->probe_buf = buf_alloc(PAGE_SZ, false, 3);
	ASSERT_NE(NULL, self->old_buf);
	ASSERT_NE(NULL, self->new_buf);
	ASSERT_NE(NULL, self->probe_buf);

	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	/*
	 * A second device on the IOAS would share the first one's automatic
	 * HWPT, so the second domain is a HWPT of its own, allocated for the
	 * first device, with a second device attached to it.
	 */
	self->ndomains = variant->domains;
	for (i = 0; i < self->ndomains; i++) {
		__u32 pt_id = self->ioas_id;

		if (i)
			ASSERT_EQ(0, hwpt_alloc(self->fd, idev_id,
						self->ioas_id, &pt_id));
		ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, pt_id,
						    variant->dev_flags,
						    &self->stdev_id[i],
						    &self->hwpt_id[i],
						    i ? NULL : &idev_id));
	}
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->old_buf,
				    self->len, IOVA_OLD));
}

FIXTURE_TEARDOWN(fail_nth)
{
	int fired;

	fail_nth_disarm(self->fd, &fired);
	close(self->fd);
	/* Every pin of the test is gone with the context. */
	if (self->old_buf && !self->huge) {
		int fd = iommufd_open();

		EXPECT_EQ(0, tcmd_check_refs_settled(fd, self->old_buf,
						     self->len, 0));
		EXPECT_EQ(0, tcmd_check_refs_settled(fd, self->new_buf,
						     self->len, 0));
		close(fd);
	}
}

/* ---------------------------------------------------------------------- */
/* The operations. */

static int op_map_fixed(fnth_t *self, void *arg)
{
	return ioas_map_fixed(self->fd, self->ioas_id, self->new_buf,
			      self->len, IOVA_NEW);
}

/* After a successful map of the new buffer at @iova: check, unmap. */
static void check_new_mapped(struct __test_metadata *_metadata,
			     fnth_t *self, __u64 iova)
{
	__u64 unmapped = 0;
	int i;

	for (i = 0; i < self->ndomains; i++)
		ASSERT_EQ(0, tcmd_check_map(self->fd, self->hwpt_id[i], iova,
					    self->new_buf, self->len));
	if (!self->huge)
		ASSERT_EQ(self->ndomains ? 1 : 0,
			  refs_of(self->fd, self->new_buf, self->len, false));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, iova, self->len,
				&unmapped));
	ASSERT_EQ(self->len, unmapped);
}

TEST_F(fail_nth, map_fixed_iova)
{
	struct fail_op op = { .run = op_map_fixed };

	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	check_new_mapped(_metadata, self, IOVA_NEW);
	TH_LOG("map: %u runs", self->runs);
}

static int op_map_auto(fnth_t *self, void *arg)
{
	return ioas_map(self->fd, self->ioas_id, self->new_buf, self->len,
			arg);
}

TEST_F(fail_nth, map_auto_iova)
{
	__u64 iova = 0;
	struct fail_op op = { .run = op_map_auto, .arg = &iova };

	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_NE(0, iova);
	check_new_mapped(_metadata, self, iova);
}

static int op_map_read_only(fnth_t *self, void *arg)
{
	__u64 iova = IOVA_NEW;

	return ioas_map_flags(self->fd, self->ioas_id, self->new_buf,
			      self->len, &iova,
			      IOMMU_IOAS_MAP_FIXED_IOVA |
			      IOMMU_IOAS_MAP_READABLE);
}

TEST_F(fail_nth, map_read_only)
{
	struct fail_op op = { .run = op_map_read_only };

	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	check_new_mapped(_metadata, self, IOVA_NEW);
}

/* Unmap exactly @arg bytes at IOVA_NEW, or everything when @arg is 0. */
static int op_unmap(fnth_t *self, void *arg)
{
	__u64 want = *(__u64 *)arg, unmapped = 0;
	int rc;

	if (want)
		rc = ioas_unmap(self->fd, self->ioas_id, IOVA_NEW, want,
				&unmapped);
	else
		rc = ioas_unmap(self->fd, self->ioas_id, 0, UINT64_MAX,
				&unmapped);
	if (!rc && unmapped != (want ? want : 2 * self->len))
		return -EIO;
	return rc;
}

/* 0 if IOVA_NEW (and with @arg 0, IOVA_OLD) is unmapped and unpinned. */
static int unmap_committed(fnth_t *self, void *arg)
{
	__u64 want = *(__u64 *)arg;

	if (probe_free(self, self->ioas_id, IOVA_NEW, true) ||
	    (!want && probe_free(self, self->ioas_id, IOVA_OLD, true)))
		return -1;
	if (!self->huge &&
	    (tcmd_check_refs(self->fd, self->new_buf, self->len, 0) ||
	     (!want && tcmd_check_refs(self->fd, self->old_buf, self->len,
				       0))))
		return -1;
	return 0;
}

TEST_F(fail_nth, unmap)
{
	__u64 want = self->len;
	struct fail_op op = { .run = op_unmap, .arg = &want,
			      .new_mapped = true,
			      .committed = unmap_committed };

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->new_buf,
				    self->len, IOVA_NEW));
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_EQ(0, probe_free(self, self->ioas_id, IOVA_NEW, true));
	if (!self->huge)
		ASSERT_EQ(0, tcmd_check_refs(self->fd, self->new_buf,
					     self->len, 0));
}

TEST_F(fail_nth, unmap_all)
{
	__u64 all = 0;
	struct fail_op op = { .run = op_unmap, .arg = &all,
			      .new_mapped = true,
			      .committed = unmap_committed };

	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->new_buf,
				    self->len, IOVA_NEW));
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_EQ(0, probe_free(self, self->ioas_id, IOVA_OLD, true));
	ASSERT_EQ(0, probe_free(self, self->ioas_id, IOVA_NEW, true));
	if (!self->huge)
		ASSERT_EQ(0, tcmd_check_refs(self->fd, self->old_buf,
					     self->len, 0));
	/* The fixture's invariant: the old buffer stays mapped. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->old_buf,
				    self->len, IOVA_OLD));
}

/* Copy IOVA_OLD of the main IOAS to IOVA_NEW of IOAS *@arg. */
static int op_copy(fnth_t *self, void *arg)
{
	__u64 dst = IOVA_NEW;

	return ioas_copy(self->fd, *(__u32 *)arg, &dst, self->ioas_id,
			 IOVA_OLD, self->len, FIXED_RW);
}

TEST_F(fail_nth, copy_within_the_ioas)
{
	__u32 dst = self->ioas_id;
	struct fail_op op = { .run = op_copy, .arg = &dst };
	struct snapshot s;
	int i;

	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	for (i = 0; i < self->ndomains; i++)
		ASSERT_EQ(0, tcmd_check_map(self->fd, self->hwpt_id[i],
					    IOVA_NEW, self->old_buf,
					    self->len));
	/* A copy shares the source's pins. */
	ASSERT_EQ(0, snapshot_take(self, self->ioas_id, &s));
	if (!self->huge)
		ASSERT_EQ(self->ndomains ? 1 : 0, s.old_refs);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, IOVA_NEW, self->len,
				NULL));
}

struct other_ioas {
	__u32 ioas_id;
	__u32 hwpt_id;
	bool has_domain;
};

/* The destination IOAS of a failed copy has nothing at IOVA_NEW. */
static int other_unchanged(struct __test_metadata *_metadata,
			   fnth_t *self, void *arg)
{
	struct other_ioas *o = arg;

	if (probe_free(self, o->ioas_id, IOVA_NEW, false)) {
		TH_LOG("the destination IOAS has something at IOVA_NEW");
		return -1;
	}
	return 0;
}

static int op_copy_other(fnth_t *self, void *arg)
{
	return op_copy(self, &((struct other_ioas *)arg)->ioas_id);
}

TEST_F(fail_nth, copy_to_another_ioas)
{
	struct other_ioas o = { .has_domain = self->ndomains > 0 };
	struct fail_op op = { .run = op_copy_other, .arg = &o,
			      .unchanged = other_unchanged };

	ASSERT_EQ(0, ioas_alloc(self->fd, &o.ioas_id));
	if (o.has_domain)
		ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, o.ioas_id,
						    variant->dev_flags, NULL,
						    &o.hwpt_id, NULL));
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	if (o.has_domain)
		ASSERT_EQ(0, tcmd_check_map(self->fd, o.hwpt_id, IOVA_NEW,
					    self->old_buf, self->len));
	ASSERT_EQ(0, ioas_unmap(self->fd, o.ioas_id, IOVA_NEW, self->len,
				NULL));
}

/* ---------------------------------------------------------------------- */
/* Devices and HW page tables. */

struct dev_op {
	__u32 pt_id;
	__u32 dev_flags;
	__u32 stdev_id;
	__u32 hwpt_id;
	__u32 idev_id;
};

static int op_mock_domain(fnth_t *self, void *arg)
{
	struct dev_op *d = arg;

	return tcmd_mock_domain_flags(self->fd, d->pt_id, d->dev_flags,
				      &d->stdev_id, &d->hwpt_id, &d->idev_id);
}

TEST_F(fail_nth, mock_device_attach_to_ioas)
{
	struct dev_op d = { .pt_id = self->ioas_id,
			    .dev_flags = variant->dev_flags };
	struct fail_op op = { .run = op_mock_domain, .arg = &d };

	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_EQ(0, tcmd_check_map(self->fd, d.hwpt_id, IOVA_OLD,
				    self->old_buf, self->len));
	ASSERT_EQ(0, iommufd_destroy(self->fd, d.stdev_id));
	/* A new automatic HWPT went with its only device. */
	if (!self->ndomains)
		ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, d.hwpt_id));
}

/* A device whose flags differ needs an automatic HWPT of its own. */
TEST_F(fail_nth, mock_device_attach_with_new_domain)
{
	struct dev_op d = { .pt_id = self->ioas_id,
			    .dev_flags = variant->dev_flags ^
					 MOCK_FLAGS_DEVICE_NO_DIRTY };
	struct fail_op op = { .run = op_mock_domain, .arg = &d };
	int i;

	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	for (i = 0; i < self->ndomains; i++)
		if (d.hwpt_id == self->hwpt_id[i])
			SKIP(return, "the mock driver shares its domain");
	ASSERT_EQ(0, tcmd_check_map(self->fd, d.hwpt_id, IOVA_OLD,
				    self->old_buf, self->len));
	ASSERT_EQ(0, iommufd_destroy(self->fd, d.stdev_id));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, d.hwpt_id));
}

TEST_F(fail_nth, mock_device_attach_to_hwpt)
{
	struct dev_op d = { .dev_flags = variant->dev_flags };
	struct fail_op op = { .run = op_mock_domain, .arg = &d };

	if (!self->ndomains)
		SKIP(return, "no HWPT to attach to");
	d.pt_id = self->hwpt_id[0];
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_EQ(self->hwpt_id[0], d.hwpt_id);
	ASSERT_EQ(0, iommufd_destroy(self->fd, d.stdev_id));
	ASSERT_EQ(0, tcmd_check_map(self->fd, self->hwpt_id[0], IOVA_OLD,
				    self->old_buf, self->len));
}

struct replace_op {
	__u32 stdev_id;
	__u32 old_hwpt;
	__u32 pt_id;
	__u32 got;
	__u32 other_ioas;
	void *other_buf;
	size_t len;
};

static int op_replace(fnth_t *self, void *arg)
{
	struct replace_op *r = arg;

	return tcmd_mock_domain_replace(self->fd, r->stdev_id, r->pt_id,
					&r->got);
}

/* After a failed replace the device still translates through its HWPT. */
static int replace_unchanged(struct __test_metadata *_metadata,
			     fnth_t *self, void *arg)
{
	struct replace_op *r = arg;
	__u64 unmapped = 0;
	int rc;

	if (tcmd_check_map(self->fd, r->old_hwpt, IOVA_OLD, self->old_buf,
			   self->len)) {
		TH_LOG("the device's HWPT lost its mapping");
		return -1;
	}
	/* ... and its HWPT still follows the main IOAS. */
	rc = ioas_map_fixed(self->fd, self->ioas_id, self->probe_buf, PAGE_SZ,
			    IOVA_PROBE);
	if (!rc)
		rc = tcmd_check_map(self->fd, r->old_hwpt, IOVA_PROBE,
				    self->probe_buf, PAGE_SZ);
	ioas_unmap(self->fd, self->ioas_id, IOVA_PROBE, PAGE_SZ, &unmapped);
	if (rc || unmapped != PAGE_SZ) {
		TH_LOG("the device's HWPT no longer follows its IOAS");
		return -1;
	}
	if (!tcmd_check_map(self->fd, r->old_hwpt, IOVA_NEW, r->other_buf,
			    r->len)) {
		TH_LOG("the old HWPT maps the other IOAS's memory");
		return -1;
	}
	return 0;
}

/* A device on the main IOAS, and a second IOAS mapping the new buffer. */
static void replace_setup(struct __test_metadata *_metadata,
			  fnth_t *self,
			  const fnth_variant_t *variant,
			  struct replace_op *r)
{
	r->other_buf = self->new_buf;
	r->len = self->len;
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    variant->dev_flags, &r->stdev_id,
					    &r->old_hwpt, NULL));
	ASSERT_EQ(0, ioas_alloc(self->fd, &r->other_ioas));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, r->other_ioas, self->new_buf,
				    self->len, IOVA_NEW));
}

TEST_F(fail_nth, mock_device_replace_to_ioas)
{
	struct replace_op r = {};
	struct fail_op op = { .run = op_replace, .arg = &r,
			      .unchanged = replace_unchanged };

	replace_setup(_metadata, self, variant, &r);
	r.pt_id = r.other_ioas;
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_NE(r.old_hwpt, r.got);
	ASSERT_EQ(0, tcmd_check_map(self->fd, r.got, IOVA_NEW, self->new_buf,
				    self->len));
	/* And back. */
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, r.stdev_id,
					      self->ioas_id, NULL));
	ASSERT_EQ(0, iommufd_destroy(self->fd, r.stdev_id));
}

TEST_F(fail_nth, mock_device_replace_to_hwpt)
{
	struct replace_op r = {};
	struct fail_op op = { .run = op_replace, .arg = &r,
			      .unchanged = replace_unchanged };
	__u32 idev_id, hwpt_id;

	replace_setup(_metadata, self, variant, &r);
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, r.other_ioas,
					    variant->dev_flags, NULL, NULL,
					    &idev_id));
	ASSERT_EQ(0, hwpt_alloc(self->fd, idev_id, r.other_ioas, &hwpt_id));
	r.pt_id = hwpt_id;
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_EQ(hwpt_id, r.got);
	ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt_id, IOVA_NEW,
				    self->new_buf, self->len));
	ASSERT_EQ(0, iommufd_destroy(self->fd, r.stdev_id));
}

static int op_hwpt_alloc(fnth_t *self, void *arg)
{
	struct dev_op *d = arg;

	return hwpt_alloc(self->fd, d->idev_id, d->pt_id, &d->hwpt_id);
}

TEST_F(fail_nth, hwpt_alloc)
{
	struct dev_op d = { .pt_id = self->ioas_id };
	struct fail_op op = { .run = op_hwpt_alloc, .arg = &d };

	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    variant->dev_flags, &d.stdev_id,
					    NULL, &d.idev_id));
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_EQ(0, tcmd_check_map(self->fd, d.hwpt_id, IOVA_OLD,
				    self->old_buf, self->len));
	ASSERT_EQ(0, iommufd_destroy(self->fd, d.hwpt_id));
}

/*
 * Nesting: a nest parent, a nested HWPT on it, an invalidation of it
 * (iommufd_nesting.c walks the invalidation's IOTLB side too).
 */
struct nest_op {
	__u32 idev_id;
	__u32 parent_id;
	__u32 nested_id;
	__u32 entry_num;
};

static void nest_setup(struct __test_metadata *_metadata, fnth_t *self,
		       const fnth_variant_t *variant, struct nest_op *n)
{
	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    variant->dev_flags, NULL, NULL,
					    &n->idev_id));
	ASSERT_EQ(0, hwpt_alloc_flags(self->fd, n->idev_id, self->ioas_id,
				      IOMMU_HWPT_ALLOC_NEST_PARENT,
				      &n->parent_id));
}

static int op_hwpt_alloc_nest_parent(fnth_t *self, void *arg)
{
	struct nest_op *n = arg;

	return hwpt_alloc_flags(self->fd, n->idev_id, self->ioas_id,
				IOMMU_HWPT_ALLOC_NEST_PARENT, &n->parent_id);
}

static int op_hwpt_alloc_nested(fnth_t *self, void *arg)
{
	struct iommu_hwpt_selftest data = { .iotlb = 7 };
	struct nest_op *n = arg;
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.dev_id = n->idev_id,
		.pt_id = n->parent_id,
		.data_type = IOMMU_HWPT_DATA_SELFTEST,
		.data_len = sizeof(data),
		.data_uptr = (__u64)(uintptr_t)&data,
	};
	int rc;

	rc = iommufd_ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd);
	if (!rc)
		n->nested_id = cmd.out_hwpt_id;
	return rc;
}

static int op_hwpt_invalidate(fnth_t *self, void *arg)
{
	struct iommu_hwpt_invalidate_selftest reqs[2] = {
		{ .iotlb_id = 0 }, { .iotlb_id = 1 },
	};
	struct nest_op *n = arg;
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = n->nested_id,
		.data_uptr = (__u64)(uintptr_t)reqs,
		.data_type = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
		.entry_len = sizeof(reqs[0]),
		.entry_num = 2,
	};
	int rc;

	rc = iommufd_ioctl(self->fd, IOMMU_HWPT_INVALIDATE, &cmd);
	n->entry_num = cmd.entry_num;
	return rc;
}

/* 0 if IOTLB entry @id of nested HWPT @hwpt_id holds @val. */
static int check_iotlb(fnth_t *self, __u32 hwpt_id, __u32 id, __u32 val)
{
	struct iommu_test_cmd cmd = {
		.check_iotlb = { .id = id, .iotlb = val },
	};

	return tcmd(self->fd, IOMMU_TEST_OP_MD_CHECK_IOTLB, hwpt_id, &cmd);
}

TEST_F(fail_nth, hwpt_alloc_nest_parent)
{
	struct nest_op n = {};
	struct fail_op op = { .run = op_hwpt_alloc_nest_parent, .arg = &n };

	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    variant->dev_flags, NULL, NULL,
					    &n.idev_id));
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_EQ(0, tcmd_check_map(self->fd, n.parent_id, IOVA_OLD,
				    self->old_buf, self->len));
	ASSERT_EQ(0, op_hwpt_alloc_nested(self, &n));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, n.parent_id));
}

TEST_F(fail_nth, hwpt_alloc_nested)
{
	struct nest_op n = {};
	struct fail_op op = { .run = op_hwpt_alloc_nested, .arg = &n };

	nest_setup(_metadata, self, variant, &n);
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_EQ(0, check_iotlb(self, n.nested_id, 0, 7));
	/* Only the nested HWPT that got through holds the parent. */
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, n.parent_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, n.nested_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, n.parent_id));
}

TEST_F(fail_nth, hwpt_invalidate)
{
	struct nest_op n = {};
	struct fail_op op = { .run = op_hwpt_invalidate, .arg = &n };

	nest_setup(_metadata, self, variant, &n);
	ASSERT_EQ(0, op_hwpt_alloc_nested(self, &n));
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_EQ(2, n.entry_num);
	ASSERT_EQ(0, check_iotlb(self, n.nested_id, 0, 0));
	ASSERT_EQ(0, check_iotlb(self, n.nested_id, 1, 0));
	ASSERT_EQ(0, check_iotlb(self, n.nested_id, 2, 7));
}

/* ---------------------------------------------------------------------- */
/* Fault queues (Documentation/fault-queues.rst). */

struct fq_op {
	__u32 fault_id;
	__u32 parent_id;	/* nest parent of the nested fault HWPT */
	int qfd;
	int next_fd;		/* the fd number a leak-free failure leaves free */
	struct dev_op d;
};

/* The lowest free fd number now. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

/* Faults module-wide not answered yet (IOMMU_TEST_OP_IOPF_RESPONSES). */
static long fq_live(int fd)
{
	__u64 live = ~0ULL;

	if (tcmd_iopf_responses(fd, 0, NULL, NULL, &live, NULL, NULL))
		return -1;
	return (long)live;
}

static int op_fault_queue_alloc(fnth_t *self, void *arg)
{
	struct fq_op *f = arg;

	return fault_queue_alloc(self->fd, &f->fault_id, &f->qfd);
}

static int fd_unchanged(struct __test_metadata *_metadata, fnth_t *self,
			void *arg)
{
	struct fq_op *f = arg;

	if (lowest_free_fd() != f->next_fd) {
		TH_LOG("a file descriptor was left behind");
		return -1;
	}
	return 0;
}

TEST_F(fail_nth, fault_queue_alloc)
{
	struct fq_op f = {};
	struct fail_op op = {
		.run = op_fault_queue_alloc,
		.unchanged = fd_unchanged,
		.arg = &f,
	};

	f.next_fd = lowest_free_fd();
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_EQ(f.next_fd, f.qfd);
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, f.fault_id));
	close(f.qfd);
	ASSERT_EQ(0, iommufd_destroy(self->fd, f.fault_id));
}

/* A nested HWPT with the fault queue (6.12: paging HWPTs take none). */
static int op_hwpt_alloc_fault(fnth_t *self, void *arg)
{
	struct fq_op *f = arg;

	return nested_alloc_fault(self->fd, f->d.idev_id, f->parent_id,
				  IOMMU_HWPT_FAULT_ID_VALID, f->fault_id,
				  &f->d.hwpt_id);
}

/*
 * A failed HWPT_ALLOC of a nested HWPT with a fault queue must keep no
 * reference on the queue or the parent: once the HWPT that got through
 * is gone, the queue (its file closed) and the parent can be destroyed.
 */
TEST_F(fail_nth, hwpt_alloc_with_fault_queue)
{
	struct fq_op f = {};
	struct fail_op op = { .run = op_hwpt_alloc_fault, .arg = &f };

	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    variant->dev_flags, &f.d.stdev_id,
					    NULL, &f.d.idev_id));
	ASSERT_EQ(0, hwpt_alloc_flags(self->fd, f.d.idev_id, self->ioas_id,
				      IOMMU_HWPT_ALLOC_NEST_PARENT,
				      &f.parent_id));
	ASSERT_EQ(0, fault_queue_alloc(self->fd, &f.fault_id, &f.qfd));
	close(f.qfd);
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_EQ(0, check_iotlb(self, f.d.hwpt_id, 0,
				 IOMMU_TEST_IOTLB_DEFAULT));
	ASSERT_EQ(0, tcmd_check_map(self->fd, f.parent_id, IOVA_OLD,
				    self->old_buf, self->len));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, f.fault_id));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, f.parent_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, f.d.hwpt_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, f.fault_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, f.parent_id));
}

static int op_trigger_iopf(fnth_t *self, void *arg)
{
	struct fq_op *f = arg;

	return tcmd_trigger_iopf(self->fd, f->d.idev_id, 1, 2,
				 IOMMU_PGFAULT_PERM_READ, IOVA_OLD, false);
}

/* A failed report queues nothing: nothing to read, nothing alive. */
static int nothing_queued(struct __test_metadata *_metadata, fnth_t *self,
			  void *arg)
{
	struct fq_op *f = arg;
	struct iommu_hwpt_pgfault rec;

	if (fq_live(self->fd) != 0 || read(f->qfd, &rec, sizeof(rec)) != 0) {
		TH_LOG("a fault group was left behind");
		return -1;
	}
	return 0;
}

/*
 * A fault queue, a nested HWPT with it on a nest parent, and a mock
 * device on the nested HWPT.
 */
static void fq_setup(struct __test_metadata *_metadata, fnth_t *self,
		     const fnth_variant_t *variant, struct fq_op *f)
{
	__u32 now;

	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    variant->dev_flags, &f->d.stdev_id,
					    NULL, &f->d.idev_id));
	ASSERT_EQ(0, fault_queue_alloc(self->fd, &f->fault_id, &f->qfd));
	ASSERT_EQ(0, hwpt_alloc_flags(self->fd, f->d.idev_id, self->ioas_id,
				      IOMMU_HWPT_ALLOC_NEST_PARENT,
				      &f->parent_id));
	ASSERT_EQ(0, op_hwpt_alloc_fault(self, f));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, f->d.stdev_id,
					      f->d.hwpt_id, &now));
}

TEST_F(fail_nth, trigger_iopf)
{
	struct fq_op f = {};
	struct fail_op op = {
		.run = op_trigger_iopf,
		.unchanged = nothing_queued,
		.arg = &f,
	};
	struct iommu_hwpt_pgfault rec;
	struct iommu_hwpt_page_response resp = {
		.code = IOMMUFD_PAGE_RESP_SUCCESS,
	};

	fq_setup(_metadata, self, variant, &f);
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_EQ(1, fq_live(self->fd));
	ASSERT_EQ(sizeof(rec), read(f.qfd, &rec, sizeof(rec)));
	ASSERT_EQ(IOVA_OLD, rec.addr);
	resp.cookie = rec.cookie;
	ASSERT_EQ(sizeof(resp), write(f.qfd, &resp, sizeof(resp)));
	ASSERT_EQ(0, fq_live(self->fd));
	close(f.qfd);
}

static int op_replace_onto_fault_hwpt(fnth_t *self, void *arg)
{
	struct fq_op *f = arg;
	__u32 now;

	return tcmd_mock_domain_replace(self->fd, f->d.stdev_id, f->d.hwpt_id,
					&now);
}

/*
 * After a failed replace the device is still where it was, off the
 * queue: its IOPF is off, and a fault it reports is answered at once,
 * never queued.
 */
static int still_off_queue(struct __test_metadata *_metadata, fnth_t *self,
			   void *arg)
{
	struct fq_op *f = arg;
	__u32 iopf_on = 1;

	if (tcmd_iopf_responses(self->fd, f->d.idev_id, NULL, NULL, NULL,
				&iopf_on, NULL) || iopf_on) {
		TH_LOG("the device's IOPF was left on");
		return -1;
	}
	if (op_trigger_iopf(self, f))
		return -1;
	return nothing_queued(_metadata, self, f);
}

/*
 * A replace onto a nested HWPT with a fault queue turns the device's IOPF
 * on only when it succeeds; the walk's last run delivers a fault, and a
 * replace back answers it.
 */
TEST_F(fail_nth, replace_onto_nested_fault_hwpt)
{
	struct fq_op f = {};
	struct fail_op op = {
		.run = op_replace_onto_fault_hwpt,
		.unchanged = still_off_queue,
		.arg = &f,
	};
	__u32 iopf_on = 0, now;

	ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, self->ioas_id,
					    variant->dev_flags, &f.d.stdev_id,
					    NULL, &f.d.idev_id));
	ASSERT_EQ(0, fault_queue_alloc(self->fd, &f.fault_id, &f.qfd));
	ASSERT_EQ(0, hwpt_alloc_flags(self->fd, f.d.idev_id, self->ioas_id,
				      IOMMU_HWPT_ALLOC_NEST_PARENT,
				      &f.parent_id));
	ASSERT_EQ(0, op_hwpt_alloc_fault(self, &f));
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	/* The replace has fault points of its own: the walk failed it. */
	ASSERT_LT(1, self->runs);
	ASSERT_EQ(0, tcmd_iopf_responses(self->fd, f.d.idev_id, NULL, NULL,
					 NULL, &iopf_on, NULL));
	ASSERT_EQ(1, iopf_on);
	ASSERT_EQ(0, op_trigger_iopf(self, &f));
	ASSERT_EQ(1, fq_live(self->fd));
	ASSERT_EQ(0, tcmd_mock_domain_replace(self->fd, f.d.stdev_id,
					      self->ioas_id, &now));
	ASSERT_EQ(0, fq_live(self->fd));
	ASSERT_EQ(0, iommufd_destroy(self->fd, f.d.hwpt_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, f.parent_id));
	close(f.qfd);
	ASSERT_EQ(0, iommufd_destroy(self->fd, f.fault_id));
}

static int op_read_fault(fnth_t *self, void *arg)
{
	struct fq_op *f = arg;
	struct iommu_hwpt_pgfault rec;
	ssize_t n = read(f->qfd, &rec, sizeof(rec));

	if (n < 0)
		return -errno;
	return n == sizeof(rec) ? 0 : -EIO;
}

/* A failed read leaves the group queued, to be read whole later. */
static int still_queued(struct __test_metadata *_metadata, fnth_t *self,
			void *arg)
{
	struct fq_op *f = arg;
	struct iommu_hwpt_page_response resp = {
		.cookie = 1,
		.code = IOMMUFD_PAGE_RESP_SUCCESS,
	};

	if (fq_live(self->fd) != 1 ||
	    write(f->qfd, &resp, sizeof(resp)) != -1 || errno != EINVAL) {
		TH_LOG("the group was lost or half read");
		return -1;
	}
	return 0;
}

TEST_F(fail_nth, read_fault_queue)
{
	struct fq_op f = {};
	struct fail_op op = {
		.run = op_read_fault,
		.unchanged = still_queued,
		.arg = &f,
	};

	fq_setup(_metadata, self, variant, &f);
	ASSERT_EQ(0, op_trigger_iopf(self, &f));
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	/* Read once: its answer goes through. */
	ASSERT_EQ(1, fq_live(self->fd));
	close(f.qfd);
	ASSERT_EQ(0, fq_live(self->fd));
}

/* ---------------------------------------------------------------------- */
/* Accesses: pinning and copying through an in-kernel user. */

struct access_op {
	int access_fd;
	__u32 flags;
	__u32 item;
	void *buf;
	size_t len;
};

static int op_access_pin(fnth_t *self, void *arg)
{
	struct access_op *a = arg;

	return tcmd_access_pin(self->fd, a->access_fd, IOVA_OLD, self->len,
			       self->old_buf, a->flags, &a->item);
}

TEST_F(fail_nth, access_pin)
{
	static const __u32 flags[] = { 0, MOCK_FLAGS_ACCESS_WRITE };
	struct access_op a = {};
	struct fail_op op = { .run = op_access_pin, .arg = &a };
	__u32 base;
	int i;

	ASSERT_EQ(0, tcmd_access_create(self->fd, self->ioas_id, PIN_ACCESS,
					&a.access_fd));
	base = refs_of(self->fd, self->old_buf, self->len, self->huge);
	for (i = 0; i < 2; i++) {
		a.flags = flags[i];
		ASSERT_EQ(0, fail_walk(_metadata, self, &op));
		/* One pin per page, shared with the domains. */
		if (!self->huge)
			ASSERT_EQ(1, refs_of(self->fd, self->old_buf,
					     self->len, false));
		ASSERT_EQ(0, tcmd_access_unpin(self->fd, a.access_fd, a.item));
		ASSERT_EQ(base, refs_of(self->fd, self->old_buf, self->len,
					self->huge));
	}
	close(a.access_fd);
}

static int op_access_rw(fnth_t *self, void *arg)
{
	struct access_op *a = arg;

	return tcmd_access_rw(self->fd, a->access_fd, IOVA_OLD + 100, a->buf,
			      a->len, a->flags);
}

TEST_F(fail_nth, access_rw)
{
	static const __u32 flags[] = {
		0, MOCK_ACCESS_RW_SLOW_PATH, MOCK_ACCESS_RW_WRITE,
		MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH,
	};
	struct access_op a = { .len = 3 * PAGE_SZ };
	struct fail_op op = { .run = op_access_rw, .arg = &a };
	unsigned char *tmp;
	int i;

	tmp = buf_alloc(a.len, false, 9);
	ASSERT_NE(NULL, tmp);
	a.buf = tmp;
	ASSERT_EQ(0, tcmd_access_create(self->fd, self->ioas_id, 0,
					&a.access_fd));
	for (i = 0; i < 4; i++) {
		a.flags = flags[i];
		if (a.flags & MOCK_ACCESS_RW_WRITE)
			memset(tmp, 0x40 + i, a.len);
		else
			memset(tmp, 0, a.len);
		ASSERT_EQ(0, fail_walk(_metadata, self, &op));
		if (a.flags & MOCK_ACCESS_RW_WRITE)
			ASSERT_EQ(0x40 + i,
				  ((unsigned char *)self->old_buf)[100 + 7]);
		ASSERT_EQ(0, memcmp(tmp, (char *)self->old_buf + 100, a.len));
	}
	close(a.access_fd);
	munmap(tmp, a.len);
}

/* ---------------------------------------------------------------------- */
/* Options, IOAS commands, windows and io_uring. */

struct option_op {
	int fd;
	__u32 option_id;
	__u32 object_id;
	__u64 val;
};

static int op_option_set(fnth_t *self, void *arg)
{
	struct option_op *o = arg;
	__u64 val = o->val;

	return iommufd_option(o->fd, o->option_id, IOMMU_OPTION_OP_SET,
			      o->object_id, &val);
}

/* A failed set leaves the option at its default. */
static int option_unchanged(struct __test_metadata *_metadata,
			    fnth_t *self, void *arg)
{
	struct option_op *o = arg;
	__u64 val = 0;

	if (iommufd_option(o->fd, o->option_id, IOMMU_OPTION_OP_GET,
			   o->object_id, &val) || val == o->val) {
		TH_LOG("option %u changed by a failed set", o->option_id);
		return -1;
	}
	return 0;
}

TEST_F(fail_nth, option_set_huge_pages)
{
	struct option_op o = { .fd = self->fd,
			       .option_id = IOMMU_OPTION_HUGE_PAGES };
	struct fail_op op = { .run = op_option_set, .arg = &o,
			      .unchanged = option_unchanged };
	__u64 val = 1;

	ASSERT_EQ(0, ioas_alloc(self->fd, &o.object_id));
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_EQ(0, iommufd_option(self->fd, IOMMU_OPTION_HUGE_PAGES,
				    IOMMU_OPTION_OP_GET, o.object_id, &val));
	ASSERT_EQ(0, val);
}

TEST_F(fail_nth, option_set_rlimit_mode)
{
	struct option_op o = { .option_id = IOMMU_OPTION_RLIMIT_MODE,
			       .val = 1 };
	struct fail_op op = { .run = op_option_set, .arg = &o,
			      .unchanged = option_unchanged };
	__u64 val = 0;

	/* Only an empty context may change it. */
	o.fd = iommufd_open();
	ASSERT_LE(0, o.fd);
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_EQ(0, iommufd_option(o.fd, IOMMU_OPTION_RLIMIT_MODE,
				    IOMMU_OPTION_OP_GET, 0, &val));
	ASSERT_EQ(1, val);
	close(o.fd);
}

static int op_ioas_alloc(fnth_t *self, void *arg)
{
	__u32 *id = arg;

	return ioas_alloc_flags(self->fd, id[1], &id[0]);
}

TEST_F(fail_nth, ioas_alloc)
{
	__u32 id[2] = {};
	struct fail_op op = { .run = op_ioas_alloc, .arg = id };

	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_EQ(self->next_id, id[0]);
	ASSERT_EQ(0, iommufd_destroy(self->fd, id[0]));
	id[1] = IOMMU_IOAS_ALLOC_WINDOWED;
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_EQ(self->next_id, id[0]);
	ASSERT_EQ(0, iommufd_destroy(self->fd, id[0]));
}

static int op_iova_ranges(fnth_t *self, void *arg)
{
	struct snapshot *s = arg;

	s->nranges = MAX_RANGES;
	return ioas_iova_ranges(self->fd, self->ioas_id, s->ranges,
				&s->nranges, &s->alignment);
}

TEST_F(fail_nth, iova_ranges)
{
	struct snapshot before, got = {};
	struct fail_op op = { .run = op_iova_ranges, .arg = &got };

	ASSERT_EQ(0, snapshot_take(self, self->ioas_id, &before));
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_EQ(before.nranges, got.nranges);
	ASSERT_EQ(before.alignment, got.alignment);
	ASSERT_EQ(0, memcmp(before.ranges, got.ranges,
			    got.nranges * sizeof(got.ranges[0])));
}

#define ALLOW_BEFORE (IOVA_PROBE + 4 * SZ_2M)

/* 0 if an automatic IOVA for one page lands in [@start, @start + 2M). */
static int auto_iova_in(fnth_t *self, __u64 start)
{
	__u64 iova = 0;
	int rc;

	rc = ioas_map(self->fd, self->ioas_id, self->probe_buf, PAGE_SZ,
		      &iova);
	if (rc)
		return rc;
	ioas_unmap(self->fd, self->ioas_id, iova, PAGE_SZ, NULL);
	return iova >= start && iova < start + SZ_2M ? 0 : -1;
}

/* The allowed list is still the one from before. */
static int allow_unchanged(struct __test_metadata *_metadata,
			   fnth_t *self, void *arg)
{
	if (auto_iova_in(self, ALLOW_BEFORE)) {
		TH_LOG("a failed ALLOW_IOVAS changed the allowed list");
		return -1;
	}
	return 0;
}

#define ALLOW_RANGES 3

static int op_allow_iovas(fnth_t *self, void *arg)
{
	return ioas_allow_iovas(self->fd, self->ioas_id, arg, ALLOW_RANGES);
}

/*
 * The allowed list steers automatic IOVAs only. Several ranges, as the
 * list is built while it is read: a failure at any element must free
 * the elements before it.
 */
TEST_F(fail_nth, allow_iovas)
{
	struct iommu_iova_range before = {
		.start = ALLOW_BEFORE, .last = ALLOW_BEFORE + SZ_2M - 1,
	};
	struct iommu_iova_range allow[ALLOW_RANGES] = {
		{ .start = IOVA_PROBE, .last = IOVA_PROBE + SZ_2M - 1 },
		{ .start = IOVA_PROBE + 8 * SZ_2M,
		  .last = IOVA_PROBE + 9 * SZ_2M - 1 },
		{ .start = IOVA_PROBE + 10 * SZ_2M,
		  .last = IOVA_PROBE + 11 * SZ_2M - 1 },
	};
	struct fail_op op = { .run = op_allow_iovas, .arg = allow,
			      .unchanged = allow_unchanged };

	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, &before, 1));
	ASSERT_EQ(0, auto_iova_in(self, ALLOW_BEFORE));
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_EQ(0, auto_iova_in(self, IOVA_PROBE));
	ASSERT_EQ(0, ioas_allow_iovas(self->fd, self->ioas_id, NULL, 0));
}

struct window_op {
	__u32 ioas_id;
	__u64 base;
	__u64 length;
	__u32 nwindows;
	bool mapped;
};

static int op_create_window(fnth_t *self, void *arg)
{
	struct window_op *w = arg;

	return ioas_create_window_fixed(self->fd, w->ioas_id, w->base,
					w->length, 0, 0);
}

static int op_remove_window(fnth_t *self, void *arg)
{
	struct window_op *w = arg;
	__u64 unmapped = 0;
	int rc;

	rc = ioas_remove_window(self->fd, w->ioas_id, w->base, &unmapped);
	if (!rc && unmapped != self->len)
		return -EIO;
	return rc;
}

/* The windowed IOAS has the windows and the mapping it had. */
static int window_unchanged(struct __test_metadata *_metadata,
			    fnth_t *self, void *arg)
{
	struct iommu_ioas_window win[4];
	struct window_op *w = arg;
	__u32 n = 4;

	if (ioas_list_windows(self->fd, w->ioas_id, win, &n) ||
	    n != w->nwindows) {
		TH_LOG("%u windows instead of %u", n, w->nwindows);
		return -1;
	}
	if (n && (win[0].base != w->base || win[0].length != w->length)) {
		TH_LOG("the window moved");
		return -1;
	}
	if (w->mapped && probe_mapped(self, w->ioas_id, w->base)) {
		TH_LOG("the window lost its mapping");
		return -1;
	}
	if (!w->mapped && n &&
	    probe_free(self, w->ioas_id, w->base + self->len, false)) {
		TH_LOG("the window is not usable");
		return -1;
	}
	if (!n && !ioas_map_fixed(self->fd, w->ioas_id, self->probe_buf,
				  PAGE_SZ, w->base)) {
		TH_LOG("a window that was never made maps");
		return -1;
	}
	return 0;
}

static int window_removed(fnth_t *self, void *arg)
{
	struct window_op *w = arg;
	__u32 n = 0;

	if (ioas_list_windows(self->fd, w->ioas_id, NULL, &n) || n)
		return -1;
	if (!self->huge &&
	    tcmd_check_refs(self->fd, self->new_buf, self->len, 0))
		return -1;
	return 0;
}

TEST_F(fail_nth, window_create_and_remove)
{
	struct window_op w = { .base = IOVA_NEW, .length = 2 * SZ_2M };
	struct fail_op create = { .run = op_create_window, .arg = &w,
				  .unchanged = window_unchanged };
	struct fail_op remove = { .run = op_remove_window, .arg = &w,
				  .unchanged = window_unchanged,
				  .committed = window_removed };
	__u32 hwpt_id = 0;
	int i;

	ASSERT_EQ(0, ioas_alloc_windowed(self->fd, &w.ioas_id));
	for (i = 0; i < self->ndomains; i++)
		ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, w.ioas_id,
						    variant->dev_flags, NULL,
						    &hwpt_id, NULL));
	ASSERT_EQ(0, fail_walk(_metadata, self, &create));
	w.nwindows = 1;
	ASSERT_EQ(0, ioas_map_fixed(self->fd, w.ioas_id, self->new_buf,
				    self->len, w.base));
	w.mapped = true;
	if (hwpt_id)
		ASSERT_EQ(0, tcmd_check_map(self->fd, hwpt_id, w.base,
					    self->new_buf, self->len));
	ASSERT_EQ(0, fail_walk(_metadata, self, &remove));
	w.nwindows = 0;
	w.mapped = false;
	ASSERT_EQ(0, window_unchanged(_metadata, self, &w));
	if (!self->huge)
		ASSERT_EQ(0, tcmd_check_refs(self->fd, self->new_buf,
					     self->len, 0));
}

/* ---- the VFIO container ioctls (vfio_compat.c) on the compat IOAS ---- */

static int set_compat_ioas(int fd, __u32 ioas_id, unsigned long type)
{
	struct iommu_vfio_ioas cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.op = IOMMU_VFIO_IOAS_SET,
	};

	if (iommufd_ioctl(fd, IOMMU_VFIO_IOAS, &cmd))
		return -1;
	return ioctl(fd, VFIO_SET_IOMMU, type) ? -errno : 0;
}

static int vfio_map_at(int fd, void *buf, size_t len, __u64 iova)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (__u64)(uintptr_t)buf,
		.iova = iova,
		.size = len,
	};

	return ioctl(fd, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

static int op_vfio_map(fnth_t *self, void *arg)
{
	return vfio_map_at(self->fd, self->new_buf, self->len, IOVA_NEW);
}

TEST_F(fail_nth, vfio_map_dma)
{
	struct fail_op op = { .run = op_vfio_map };

	ASSERT_EQ(0, set_compat_ioas(self->fd, self->ioas_id,
				     VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	check_new_mapped(_metadata, self, IOVA_NEW);
}

/* Unmap *@arg bytes at IOVA_NEW + @arg[1]; the size must come back. */
static int op_vfio_unmap(fnth_t *self, void *arg)
{
	const __u64 *want = arg;
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = IOVA_NEW + want[1],
		.size = want[0],
	};

	if (ioctl(self->fd, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return -errno;
	return unmap.size == want[0] ? 0 : -EIO;
}

TEST_F(fail_nth, vfio_unmap_dma)
{
	__u64 want[2] = { self->len, 0 };
	struct fail_op op = { .run = op_vfio_unmap, .arg = want,
			      .new_mapped = true,
			      .committed = unmap_committed };

	ASSERT_EQ(0, set_compat_ioas(self->fd, self->ioas_id,
				     VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_map_at(self->fd, self->new_buf, self->len,
				 IOVA_NEW));
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_EQ(0, probe_free(self, self->ioas_id, IOVA_NEW, true));
}

static int op_vfio_get_info(fnth_t *self, void *arg)
{
	struct vfio_iommu_type1_info *info = arg;

	info->argsz = 256;
	if (ioctl(self->fd, VFIO_IOMMU_GET_INFO, info))
		return -errno;
	return info->cap_offset == sizeof(*info) ? 0 : -EIO;
}

TEST_F(fail_nth, vfio_get_info)
{
	__u64 buf[32];
	struct fail_op op = { .run = op_vfio_get_info, .arg = buf };

	ASSERT_EQ(0, set_compat_ioas(self->fd, self->ioas_id,
				     VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
}

struct v1_split {
	__u32 ioas_id;
	__u32 hwpt_id;
	__u64 want[2];
};

/* The v1 IOAS still maps all of the new buffer, each page pinned once. */
static int v1_whole(struct __test_metadata *_metadata, fnth_t *self,
		    void *arg)
{
	struct v1_split *v = arg;

	if (v->hwpt_id && tcmd_check_map(self->fd, v->hwpt_id, IOVA_NEW,
					 self->new_buf, self->len)) {
		TH_LOG("the v1 mapping lost a part");
		return -1;
	}
	if (v->hwpt_id && !self->huge &&
	    tcmd_check_refs(self->fd, self->new_buf, self->len, 1)) {
		TH_LOG("the v1 mapping's pins changed");
		return -1;
	}
	return 0;
}

/* The cut-out page is gone, the rest is mapped and pinned. */
static int v1_cut_done(fnth_t *self, void *arg)
{
	struct v1_split *v = arg;

	if (!v->hwpt_id)
		return 0;
	if (tcmd_check_map(self->fd, v->hwpt_id, IOVA_NEW, self->new_buf,
			   PAGE_SZ) ||
	    tcmd_check_map(self->fd, v->hwpt_id, IOVA_NEW + 2 * PAGE_SZ,
			   self->new_buf + 2 * PAGE_SZ,
			   self->len - 2 * PAGE_SZ))
		return -1;
	if (!self->huge &&
	    tcmd_check_refs(self->fd, self->new_buf + PAGE_SZ, PAGE_SZ, 0))
		return -1;
	return 0;
}

static int op_vfio_v1_cut(fnth_t *self, void *arg)
{
	return op_vfio_unmap(self, ((struct v1_split *)arg)->want);
}

/* TYPE1 unmaps one page out of the middle of a mapping: cut, unmap. */
TEST_F(fail_nth, vfio_v1_unmap_cuts_a_mapping)
{
	struct v1_split v = { .want = { PAGE_SZ, PAGE_SZ } };
	struct fail_op op = { .run = op_vfio_v1_cut, .arg = &v,
			      .other_ioas = true, .unchanged = v1_whole,
			      .committed = v1_cut_done };
	int i;

	ASSERT_EQ(0, ioas_alloc(self->fd, &v.ioas_id));
	for (i = 0; i < self->ndomains; i++)
		ASSERT_EQ(0, tcmd_mock_domain_flags(self->fd, v.ioas_id,
						    variant->dev_flags, NULL,
						    &v.hwpt_id, NULL));
	ASSERT_EQ(0, set_compat_ioas(self->fd, v.ioas_id, VFIO_TYPE1_IOMMU));
	ASSERT_EQ(0, vfio_map_at(self->fd, self->new_buf, self->len,
				 IOVA_NEW));
	ASSERT_EQ(0, fail_walk(_metadata, self, &op));
	ASSERT_EQ(0, v1_cut_done(self, &v));
}

struct uring_op {
	struct io_uring ring;
	bool inline_cmd;
	struct iommu_ioas_map map;
};

static int op_uring_map(fnth_t *self, void *arg)
{
	struct uring_op *u = arg;
	struct iommu_uring_cmd hdr = { .arg = (__u64)(uintptr_t)&u->map };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int res;

	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, self->fd, NULL, 0, 0);
	sqe->cmd_op = IOMMU_IOAS_MAP;
	if (u->inline_cmd) {
		hdr.flags = IOMMU_URING_CMD_INLINE;
		hdr.arg = 0;
		memcpy(sqe->cmd + sizeof(hdr), &u->map, sizeof(u->map));
	}
	memcpy(sqe->cmd, &hdr, sizeof(hdr));
	if (io_uring_submit(&u->ring) != 1 ||
	    io_uring_wait_cqe(&u->ring, &cqe))
		return -EIO;
	res = cqe->res;
	io_uring_cqe_seen(&u->ring, cqe);
	return res;
}

TEST_F(fail_nth, uring_submit_of_map)
{
	struct uring_op u = {
		.map = {
			.size = sizeof(u.map),
			.flags = FIXED_RW,
			.ioas_id = self->ioas_id,
			.user_va = (__u64)(uintptr_t)self->new_buf,
			.length = self->len,
			.iova = IOVA_NEW,
		},
	};
	struct fail_op op = { .run = op_uring_map, .arg = &u };
	int i;

	for (i = 0; i < 2; i++) {
		u.inline_cmd = i;
		ASSERT_EQ(0, io_uring_queue_init(8, &u.ring,
						 i ? IORING_SETUP_SQE128 : 0));
		ASSERT_EQ(0, fail_walk(_metadata, self, &op));
		check_new_mapped(_metadata, self, IOVA_NEW);
		io_uring_queue_exit(&u.ring);
	}
}

/* ---------------------------------------------------------------------- */
/* The fault states themselves (iommufd/fault.c). */

/* Arm (or with @nth 0 disarm) the caller; *@armed: live armed tasks. */
static int fail_nth_armed_tasks(int fd, __u32 nth, __u32 *armed)
{
	struct iommu_test_cmd cmd = {
		/* A kernel that does not report it leaves this in place. */
		.fail_nth = { .nth = nth, .kinds = nth ? MOCK_FAULT_ALLOC : 0,
			      .out_armed_tasks = 0xffffffff },
	};
	int rc;

	rc = tcmd(fd, IOMMU_TEST_OP_FAIL_NTH, 0, &cmd);
	*armed = cmd.fail_nth.out_armed_tasks;
	return rc;
}

/* The next fork() gets PID @pid, if it is free; -1 without the right. */
static int next_pid_is(pid_t pid)
{
	FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");
	int rc;

	if (!f)
		return -1;
	rc = fprintf(f, "%d", pid - 1) > 0 ? 0 : -1;
	return fclose(f) || rc ? -1 : 0;
}

/* The exit code of child @pid, or -1. */
static int child_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* A child arms far away through @fd, counts an event, and dies armed. */
static pid_t fork_armed_and_die(int fd)
{
	pid_t pid = fork();
	__u32 ioas_id;

	if (pid)
		return pid;
	if (tcmd_fail_nth(fd, 1000000, MOCK_FAULT_ALL, NULL, NULL))
		_exit(1);
	_exit(ioas_alloc(fd, &ioas_id) ? 2 : 0);
}

#define NOT_REUSED 10

/*
 * A task that gets the PID (and, as often as the allocator likes, the
 * task_struct memory) of a task that died armed starts with no fault
 * state: nothing fired, nothing seen. States were matched by task
 * pointer and PID, so such a task took over the dead one's.
 */
TEST(fault_state_of_a_dead_task_is_not_inherited)
{
	unsigned int i, reused = 0;
	__u32 armed;
	int fd;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	if (!iommufd_is_test_build(fd))
		SKIP(return, "needs a test build");
	for (i = 0; i != 30; i++) {
		pid_t first, second;
		int rc;

		first = fork_armed_and_die(fd);
		ASSERT_LT(0, first);
		ASSERT_EQ(0, child_status(first));
		/* Let RCU free its task_struct, to be handed out again. */
		usleep(20000);
		if (next_pid_is(first))
			SKIP(return, "cannot choose the next PID (needs root)");
		second = fork();
		ASSERT_LE(0, second);
		if (!second) {
			__u32 fired = 1, seen = 1;

			if (getpid() != first)
				_exit(NOT_REUSED);
			if (tcmd_fail_nth(fd, 0, 0, &fired, &seen))
				_exit(3);
			_exit(fired || seen ? 4 : 0);
		}
		rc = child_status(second);
		if (rc == NOT_REUSED)
			continue;
		reused++;
		ASSERT_EQ(0, rc) TH_LOG("PID %d inherited a dead task's state",
					first);
	}
	ASSERT_LT(0, reused) TH_LOG("no PID was ever reused");
	/* The dead are not counted: the parent arms alone. */
	ASSERT_EQ(0, fail_nth_armed_tasks(fd, 1000000, &armed));
	ASSERT_EQ(1, armed);
	ASSERT_EQ(0, fail_nth_armed_tasks(fd, 0, &armed));
	ASSERT_EQ(0, armed);
	close(fd);
}

/*
 * Many short-lived tasks that arm and die armed leave nothing behind:
 * through a shared fd, the next arming sweeps their states; through
 * their own fd, its close disarms them. Memory no longer grows with the
 * number of tasks that ever armed.
 */
TEST(fault_states_of_dead_tasks_are_freed)
{
	unsigned int i;
	__u32 armed;
	int fd;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	if (!iommufd_is_test_build(fd))
		SKIP(return, "needs a test build");
	for (i = 0; i != 64; i++) {
		pid_t pid;

		pid = fork_armed_and_die(fd);
		ASSERT_LT(0, pid);
		ASSERT_EQ(0, child_status(pid));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			int own = iommufd_open();

			_exit(own < 0 || tcmd_fail_nth(own, 1000000,
						       MOCK_FAULT_ALL, NULL,
						       NULL) ? 1 : 0);
		}
		ASSERT_EQ(0, child_status(pid));
	}
	ASSERT_EQ(0, fail_nth_armed_tasks(fd, 1000000, &armed));
	ASSERT_EQ(1, armed);
	/* Closing the fd the parent armed through disarms it. */
	close(fd);
	fd = iommufd_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fail_nth_armed_tasks(fd, 0, &armed));
	ASSERT_EQ(0, armed);
	close(fd);
}

TEST_HARNESS_MAIN
