// SPDX-License-Identifier: GPL-2.0
/*
 * Filling iommu_domains from an io_pagetable. Every attached domain maps
 * every area. The pages behind the areas are pinned once, through one pin
 * holder per area, whatever the number of domains, and the PFNs are read
 * back from the pages layer; each physically contiguous run goes to the
 * domain in one iommu_map() call, so the domain can choose large IOPTEs.
 *
 * This file keeps the domains mapping what the area tree says; it calls
 * only the pages layer. Which domain may join (aperture, alignment,
 * windows) is decided above it, in io_pagetable.c. io_pagetable::domains
 * and the areas' domain_pinned are guarded as struct io_pagetable and
 * struct iopt_area say.
 */
#include <linux/iommu.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "compat.h"
#include "fault.h"
#include "iopte_stats.h"
#include "iopt_internal.h"
#include "pages.h"

static void area_indexes_all(struct iopt_area *area, unsigned long *first,
			     unsigned long *last)
{
	*first = area->start_byte >> PAGE_SHIFT;
	*last = (area->start_byte + area_length(area) - 1) >> PAGE_SHIFT;
}

/*
 * Map an area of an exact-IOPTE window: one iommu_map() of exactly the
 * window's page size per page, each of which must be physically
 * contiguous and aligned to that size (-EINVAL otherwise).
 */
static int iopt_map_area_exact(struct iommu_domain *domain,
			       struct iopt_area *area)
{
	unsigned long size = area->exact_pgsize, done;
	int rc = 0;

	for (done = 0; done != area_length(area); done += size) {
		unsigned long byte = area->start_byte + done, pfn, run;
		unsigned long offset = byte % PAGE_SIZE;
		phys_addr_t phys;

		run = iopt_pages_contig(area->pages, byte >> PAGE_SHIFT,
					DIV_ROUND_UP(offset + size, PAGE_SIZE),
					&pfn);
		/* Not pinned after all: map nothing rather than a wrong PFN. */
		rc = -EFAULT;
		if (!run)
			break;
		phys = PFN_PHYS(pfn) + offset;
		rc = -EINVAL;
		if (run * PAGE_SIZE - offset < size || phys % size)
			break;
		rc = iommufd_fault_hit(IOMMUFD_FAULT_IOMMU_MAP) ? -ENOMEM :
		     compat_iommu_map(domain, area->node.start + done, phys,
				      size, area->iommu_prot);
		if (rc)
			break;
		iommufd_iopte_stats_note(domain, area->node.start + done, phys,
					 size);
	}
	if (rc && done)
		iommu_unmap(domain, area->node.start, done);
	return rc;
}

/*
 * Map the whole area into @domain. With @small_only no IOPTE may exceed
 * PAGE_SIZE (IOMMU_OPTION_HUGE_PAGES = 0), so each page is its own call.
 */
static int iopt_map_area(struct iommu_domain *domain, struct iopt_area *area,
			 bool small_only)
{
	unsigned long byte = area->start_byte, iova = area->node.start;
	unsigned long last_index = (byte + area_length(area) - 1) >> PAGE_SHIFT;
	unsigned long left = area_length(area);
	struct iopt_run runs[IOPT_RUNS_CHUNK] __uninitialized;
	unsigned int n = 0, i = 0;
	int rc = 0;

	if (area->exact_pgsize)
		return iopt_map_area_exact(domain, area);
	while (left) {
		unsigned long index = byte >> PAGE_SHIFT, offset = byte % PAGE_SIZE;
		unsigned long avail, len;
		phys_addr_t phys;

		/* The runs come in chunks: one walk of the store each. */
		if (i == n) {
			n = iopt_pages_runs(area->pages, index, last_index,
					    runs, ARRAY_SIZE(runs));
			i = 0;
			/* Not pinned after all: fail, map no made-up PFN. */
			if (!n) {
				rc = -EFAULT;
				break;
			}
		}
		avail = runs[i].index + runs[i].npages - index;
		phys = PFN_PHYS(runs[i].pfn + (index - runs[i].index)) + offset;
		len = min(left, avail * PAGE_SIZE - offset);
		if (small_only)
			len = min(len, PAGE_SIZE - offset);
		rc = iommufd_fault_hit(IOMMUFD_FAULT_IOMMU_MAP) ? -ENOMEM :
		     compat_iommu_map(domain, iova, phys, len,
				      area->iommu_prot);
		if (rc)
			break;
		iommufd_iopte_stats_note(domain, iova, phys, len);
		iova += len;
		byte += len;
		left -= len;
		if (left && byte >> PAGE_SHIFT >= runs[i].index + runs[i].npages)
			i++;
	}
	/* iommu_map() undid its own part; undo ours. */
	if (rc && iova != area->node.start)
		iommu_unmap(domain, area->node.start, iova - area->node.start);
	return rc;
}

static void iopt_unmap_area(struct iommu_domain *domain,
			    struct iopt_area *area)
{
	size_t done = iommu_unmap(domain, area->node.start, area_length(area));

	/* A domain that cannot unmap what we mapped is a driver bug. */
	WARN_ON(done != area_length(area));
}

/* Does the area map every page of its pages (as all areas MAP makes do)? */
static bool area_maps_all_pages(struct iopt_area *area)
{
	unsigned long first, last;

	area_indexes_all(area, &first, &last);
	return !first && last == area->pages->npages - 1;
}

/*
 * The pin and unpin for the domains are inlined into their few callers:
 * they run in every map and unmap, where a call costs about as much as
 * they do (on hardware as well: on CPUs that need the retbleed or SRSO
 * mitigations every return goes through a return thunk).
 */
static __always_inline int iopt_area_pin_for_domains(struct iopt_area *area)
{
	unsigned long first, last;
	int rc;

	if (area_maps_all_pages(area)) {
		rc = iopt_pages_pin_whole(area->pages);
	} else {
		area_indexes_all(area, &first, &last);
		rc = iopt_pages_pin(area->pages, first, last, NULL);
	}
	if (!rc)
		area->domain_pinned = true;
	return rc;
}

static __always_inline void iopt_area_unpin_for_domains(struct iopt_area *area)
{
	unsigned long first, last;

	if (!area->domain_pinned)
		return;
	if (area_maps_all_pages(area)) {
		iopt_pages_unpin_whole(area->pages);
	} else {
		area_indexes_all(area, &first, &last);
		iopt_pages_unpin(area->pages, first, last);
	}
	area->domain_pinned = false;
}

/**
 * iopt_area_fill_domains - map a new area into every attached domain
 * @iopt: the address space
 * @area: an area inserted but not yet ready
 *
 * Called with domains_rwsem held for read, or with iova_rwsem held for
 * write (which also keeps the set of domains still). All or nothing: on
 * failure the area is in no domain and pins nothing.
 */
int iopt_area_fill_domains(struct io_pagetable *iopt, struct iopt_area *area)
{
	bool small_only = READ_ONCE(iopt->disable_large_pages);
	unsigned int i;
	int rc;

	iopt_assert_domains_stable(iopt);
	if (!iopt->ndomains) {
		/* Pinned ahead for domains that have gone since. */
		iopt_area_unpin_for_domains(area);
		return 0;
	}
	if (!area->domain_pinned) {
		rc = iopt_area_pin_for_domains(area);
		if (rc)
			return rc;
	}
	for (i = 0; i != iopt->ndomains; i++) {
		rc = iopt_map_area(iopt->domains[i], area, small_only);
		if (rc)
			goto err_unmap;
	}
	return 0;

err_unmap:
	while (i--)
		iopt_unmap_area(iopt->domains[i], area);
	iopt_area_unpin_for_domains(area);
	return rc;
}

/**
 * iopt_area_prepin - pin a new area's pages for the domains, unlocked
 * @iopt: the address space the area is about to be inserted into
 * @area: an area not in any tree yet, its pages and length already set
 *
 * A MAP or COPY that fills the domains inside its iova_rwsem write
 * section pins first, before taking the lock: faulting pages in can
 * block for long (memory registered with userfaultfd during a postcopy
 * migration), and the IOAS's other operations must not wait for that.
 * Racy by design: if the last domain goes before the lock is taken,
 * iopt_area_fill_domains() drops the pin; if the first one comes, it
 * pins under the lock. Returns 0 with the area pinned (or with no domain
 * to pin for), or the pin's error with nothing changed.
 */
int iopt_area_prepin(struct io_pagetable *iopt, struct iopt_area *area)
{
	if (!READ_ONCE(iopt->ndomains))
		return 0;
	return iopt_area_pin_for_domains(area);
}

/*
 * iopt_area_prepin() that never sleeps, for a MAP on io_uring's
 * nonblocking issue: -EAGAIN, with nothing pinned, wherever the pin
 * would wait. Only areas over all of their pages, as MAP makes them.
 */
int iopt_area_prepin_nowait(struct io_pagetable *iopt, struct iopt_area *area)
{
	int rc;

	if (!READ_ONCE(iopt->ndomains))
		return 0;
	if (!area_maps_all_pages(area))
		return -EAGAIN;
	rc = iopt_pages_pin_whole_nowait(area->pages);
	if (!rc)
		area->domain_pinned = true;
	return rc;
}

/* Drop a pin iopt_area_prepin() took, for an area that was not filled. */
void iopt_area_prepin_undo(struct io_pagetable *iopt, struct iopt_area *area)
{
	iopt_area_unpin_for_domains(area);
}

/* Drop the pins taken ahead for the areas of slices never filled. */
void iopt_slices_prepin_undo(struct io_pagetable *iopt,
			     struct iopt_slice *slices, unsigned int n)
{
	unsigned int i;

	for (i = 0; i != n; i++) {
		iopt_area_prepin_undo(iopt, slices[i].area);
		cond_resched();
	}
}

/* Take an area out of every domain and drop its domain pin. */
void iopt_area_unfill_domains(struct io_pagetable *iopt,
			      struct iopt_area *area)
{
	unsigned int i;

	iopt_assert_domains_stable(iopt);
	for (i = 0; i != iopt->ndomains; i++)
		iopt_unmap_area(iopt->domains[i], area);
	iopt_area_unpin_for_domains(area);
}

/*
 * Map every area into @domain, pinning first if this is the first domain.
 * On failure undoes everything it did.
 */
static int iopt_fill_domain(struct io_pagetable *iopt,
			    struct iommu_domain *domain)
{
	bool first_domain = !iopt->ndomains;
	struct iopt_area *area, *undo;
	int rc = 0;

	for (area = area_first(iopt, 0, ULONG_MAX); area;
	     area = area_next(area, 0, ULONG_MAX)) {
		if (WARN_ON(!area->ready)) {
			rc = -EBUSY;
			break;
		}
		if (first_domain) {
			rc = iopt_area_pin_for_domains(area);
			if (rc)
				break;
		}
		rc = iopt_map_area(domain, area, iopt->disable_large_pages);
		if (rc) {
			if (first_domain)
				iopt_area_unpin_for_domains(area);
			break;
		}
		/* Only rwsems are held: see iopt_table_add_domain(). */
		cond_resched();
	}
	if (!rc)
		return 0;
	for (undo = area_first(iopt, 0, ULONG_MAX); undo;
	     undo = area_next(undo, 0, ULONG_MAX)) {
		if (undo == area)
			break;
		iopt_unmap_area(domain, undo);
		if (first_domain)
			iopt_area_unpin_for_domains(undo);
		cond_resched();
	}
	return rc;
}

/*
 * Make room for one more domain, so that joining cannot fail once the
 * domain is filled. Both locks held for write.
 */
int iopt_domains_make_room(struct io_pagetable *iopt)
{
	struct iommu_domain **grown;

	grown = iommufd_krealloc_array(iopt->domains, iopt->ndomains + 1,
				       sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	iopt->domains = grown;
	return 0;
}

/**
 * iopt_domain_join - fill a new domain and add it to the set
 * @iopt: the address space, both locks held for write, with room made
 *	by iopt_domains_make_room()
 * @domain: a domain mapping nothing yet, its placement already checked
 *
 * Maps every area into @domain and keeps it filled from then on. On
 * failure nothing changed.
 */
int iopt_domain_join(struct io_pagetable *iopt, struct iommu_domain *domain)
{
	int rc;

	lockdep_assert_held_write(&iopt->domains_rwsem);
	lockdep_assert_held_write(&iopt->iova_rwsem);
	rc = iopt_fill_domain(iopt, domain);
	if (rc)
		return rc;
	iopt->domains[iopt->ndomains++] = domain;
	return 0;
}

/**
 * iopt_domain_leave - take a domain out of the set and empty it
 * @iopt: the address space, both locks held for write
 * @domain: a domain added with iopt_domain_join()
 *
 * Unmaps every area from @domain; the last domain to go also drops the
 * pins the domains needed. False if @domain was not in the set.
 */
bool iopt_domain_leave(struct io_pagetable *iopt, struct iommu_domain *domain)
{
	struct iopt_area *area;
	unsigned int i;

	lockdep_assert_held_write(&iopt->domains_rwsem);
	lockdep_assert_held_write(&iopt->iova_rwsem);
	for (i = 0; i != iopt->ndomains; i++)
		if (iopt->domains[i] == domain)
			break;
	if (i == iopt->ndomains)
		return false;
	iopt->ndomains--;
	memmove(&iopt->domains[i], &iopt->domains[i + 1],
		(iopt->ndomains - i) * sizeof(*iopt->domains));
	for (area = area_first(iopt, 0, ULONG_MAX); area;
	     area = area_next(area, 0, ULONG_MAX)) {
		iopt_unmap_area(domain, area);
		if (!iopt->ndomains)
			iopt_area_unpin_for_domains(area);
		/* Only the two rwsems are held: sleeping is allowed. */
		cond_resched();
	}
	return true;
}
