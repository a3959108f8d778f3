// SPDX-License-Identifier: GPL-2.0
/*
 * Fault points, test builds only: per-task "fail the Nth event" state set
 * through IOMMU_TEST_OP_FAIL_NTH (whose handler is in selftest.c).
 *
 * Every layer asks the fault points, so this file calls none of them:
 * only the kernel.
 *
 * Each task that asked for faults has one struct fault_state in
 * fault_tasks, indexed by its PID number. The state names its task by
 * its struct pid, with a reference held: a struct pid is never reused
 * while referenced, so a later task that gets the same PID number (or
 * the same task_struct memory) never matches a dead task's state.
 *
 * A state lives until the first of: its task disarms; the context it was
 * armed through is closed; some task arms after its task has exited (each
 * arming sweeps the states of dead tasks); the module goes. Memory thus
 * never grows with the number of tasks that armed and died.
 *
 * Locking: only the owning task reads or changes the counters of its
 * state, inside rcu_read_lock(). Entries are added with xa_store() and
 * removed only with xa_cmpxchg(), so that of two removers (the owner
 * disarming, a context closing, a sweep) exactly one wins and frees the
 * state, after a grace period.
 */
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/xarray.h>

#include "fault.h"

/*
 * @pid: the owning task's struct pid, referenced
 * @ictx: the context FAIL_NTH armed it through; not dereferenced, only
 *	compared, and every state naming a context goes when it closes
 */
struct fault_state {
	struct pid *pid;
	struct iommufd_ctx *ictx;
	struct rcu_head rcu;
	unsigned long nth;
	unsigned long seen;
	u32 kinds;
	bool fired;
};

static DEFINE_XARRAY(fault_tasks);

/* One increment per entry of fault_tasks. */
DEFINE_STATIC_KEY_FALSE(iommufd_faults_armed);

static void fault_state_free_rcu(struct rcu_head *head)
{
	struct fault_state *st = container_of(head, struct fault_state, rcu);

	put_pid(st->pid);
	kfree(st);
}

/*
 * Take @st out of the table if it is still at @index: true if this call
 * did, and then the caller drops the static key once (which may sleep, so
 * not inside rcu_read_lock()).
 */
static bool fault_state_unlink(unsigned long index, struct fault_state *st)
{
	if (xa_cmpxchg(&fault_tasks, index, st, NULL, 0) != st)
		return false;
	call_rcu(&st->rcu, fault_state_free_rcu);
	return true;
}

static void fault_key_put(unsigned long n)
{
	while (n--)
		static_branch_dec(&iommufd_faults_armed);
}

/* The caller holds rcu_read_lock(). */
static struct fault_state *fault_state_of_current(void)
{
	struct fault_state *st = xa_load(&fault_tasks, current->pid);

	return st && st->pid == task_pid(current) ? st : NULL;
}

bool iommufd_fault_hit_slow(enum iommufd_fault kind)
{
	struct fault_state *st;
	bool hit = false;

	rcu_read_lock();
	st = fault_state_of_current();
	if (st && st->nth && (st->kinds & kind) && ++st->seen == st->nth) {
		/* One shot: the operation under test sees exactly one failure. */
		st->fired = true;
		st->nth = 0;
		hit = true;
	}
	rcu_read_unlock();
	return hit;
}

/* Free the states of tasks that have exited; returns how many remain. */
static unsigned long fault_sweep_dead_tasks(void)
{
	unsigned long index, left = 0, gone = 0;
	struct fault_state *st;

	rcu_read_lock();
	xa_for_each(&fault_tasks, index, st) {
		if (pid_task(st->pid, PIDTYPE_PID))
			left++;
		else
			gone += fault_state_unlink(index, st);
	}
	rcu_read_unlock();
	fault_key_put(gone);
	return left;
}

/* Arm the calling task; replaces its previous state or a dead task's. */
static int fault_arm_current(struct iommufd_ctx *ictx, u32 nth, u32 kinds)
{
	struct fault_state *st, *old;

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	*st = (struct fault_state){ .pid = get_task_pid(current, PIDTYPE_PID),
				    .ictx = ictx, .nth = nth, .kinds = kinds };
	old = xa_store(&fault_tasks, current->pid, st, GFP_KERNEL);
	if (xa_is_err(old)) {
		put_pid(st->pid);
		kfree(st);
		return xa_err(old);
	}
	if (old)
		call_rcu(&old->rcu, fault_state_free_rcu);
	else
		static_branch_inc(&iommufd_faults_armed);
	return 0;
}

bool iommufd_fault_armed_current_slow(void)
{
	struct fault_state *st;
	bool armed;

	rcu_read_lock();
	st = fault_state_of_current();
	armed = st && st->nth;
	rcu_read_unlock();
	return armed;
}

/**
 * iommufd_fault_set_current - change the calling task's fault setting
 * @ictx: the context the setting is made through; closing it disarms
 * @nth: fail the @nth event of @kinds from now on; 0 disarms
 * @kinds: MOCK_FAULT_* kinds of events to count; the caller validated
 *	them
 * @report: out: the previous setting's outcome, and how many tasks have
 *	fault points armed after the change
 *
 * Returns 0, or an error (-ENOMEM) when the new setting cannot be
 * stored; @report then describes the previous setting, which stays.
 */
int iommufd_fault_set_current(struct iommufd_ctx *ictx, u32 nth, u32 kinds,
			      struct iommufd_fault_report *report)
{
	struct fault_state *st;
	int rc;

	rcu_read_lock();
	st = fault_state_of_current();
	report->fired = st ? st->fired : false;
	report->seen = st ? st->seen : 0;
	rcu_read_unlock();

	if (nth) {
		rc = fault_arm_current(ictx, nth, kinds);
		if (rc)
			return rc;
	} else if (st && fault_state_unlink(current->pid, st)) {
		/* Only this task stores at its index: @st is still valid. */
		fault_key_put(1);
	}
	report->armed_tasks = fault_sweep_dead_tasks();
	return 0;
}

/*
 * A context is closing: disarm every task that armed through it. Tasks
 * armed through another context are left alone; the ones that died are
 * swept on the next arming or at module exit.
 */
void iommufd_fault_ctx_closed(struct iommufd_ctx *ictx)
{
	unsigned long index, gone = 0;
	struct fault_state *st;

	/* Arming returned before the close began, so no state is missed. */
	if (!static_key_enabled(&iommufd_faults_armed))
		return;
	rcu_read_lock();
	xa_for_each(&fault_tasks, index, st)
		if (st->ictx == ictx)
			gone += fault_state_unlink(index, st);
	rcu_read_unlock();
	fault_key_put(gone);
}

/* Module unload: free the states of tasks that never disarmed. */
void iommufd_fault_exit(void)
{
	unsigned long index, gone = 0;
	struct fault_state *st;

	rcu_read_lock();
	xa_for_each(&fault_tasks, index, st)
		gone += fault_state_unlink(index, st);
	rcu_read_unlock();
	fault_key_put(gone);
	/* The frees run before the module's code goes. */
	rcu_barrier();
	xa_destroy(&fault_tasks);
}
