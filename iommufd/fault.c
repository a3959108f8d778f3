// SPDX-License-Identifier: GPL-2.0
/*
 * Fault points, test builds only: per-task "fail the Nth event" state set
 * through IOMMU_TEST_OP_FAIL_NTH.
 *
 * Each task that asked for faults has one struct fault_state in an xarray
 * indexed by its PID. Only that task reads or changes its state (faults
 * fire in the task that makes the call), so the state needs no lock; the
 * xarray's own lock covers adding and removing entries.
 */
#include <linux/sched.h>
#include <linux/xarray.h>

#include "fault.h"
#include "iommufd_private.h"

struct fault_state {
	struct task_struct *task;
	unsigned long nth;
	unsigned long seen;
	u32 kinds;
	bool fired;
};

static DEFINE_XARRAY(fault_tasks);

/* One increment per entry of fault_tasks. */
DEFINE_STATIC_KEY_FALSE(iommufd_faults_armed);

static struct fault_state *fault_state_of_current(void)
{
	struct fault_state *st = xa_load(&fault_tasks, current->pid);

	/* A PID reused by another task does not inherit the state. */
	return st && st->task == current ? st : NULL;
}

bool iommufd_fault_hit_slow(enum iommufd_fault kind)
{
	struct fault_state *st = fault_state_of_current();

	if (!st || !st->nth || !(st->kinds & kind))
		return false;
	if (++st->seen != st->nth)
		return false;
	/* One shot: the operation under test sees exactly one failure. */
	st->fired = true;
	st->nth = 0;
	return true;
}

bool iommufd_fault_armed_current_slow(void)
{
	struct fault_state *st = fault_state_of_current();

	return st && st->nth;
}

/*
 * IOMMU_TEST_OP_FAIL_NTH: report whether the previous setting fired and
 * how many events it counted, then arm a new one (nth 0: disarm).
 */
int iommufd_test_fail_nth(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	u32 nth = cmd->fail_nth.nth, kinds = cmd->fail_nth.kinds;
	struct fault_state *st = fault_state_of_current();

	if (kinds & ~MOCK_FAULT_ALL)
		return -EOPNOTSUPP;
	if (nth && !kinds)
		return -EINVAL;
	cmd->fail_nth.out_fired = st ? st->fired : 0;
	cmd->fail_nth.out_seen = st ? st->seen : 0;

	if (!nth) {
		if (st) {
			xa_erase(&fault_tasks, current->pid);
			kfree(st);
			static_branch_dec(&iommufd_faults_armed);
		}
		return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	if (!st) {
		struct fault_state *stale;

		st = kzalloc(sizeof(*st), GFP_KERNEL);
		if (!st)
			return -ENOMEM;
		st->task = current;
		stale = xa_store(&fault_tasks, current->pid, st, GFP_KERNEL);
		if (xa_is_err(stale)) {
			kfree(st);
			return xa_err(stale);
		}
		/* A stale entry of an exited task with this PID is dropped. */
		kfree(stale);
		if (!stale)
			static_branch_inc(&iommufd_faults_armed);
	}
	*st = (struct fault_state){ .task = current, .nth = nth,
				    .kinds = kinds };
	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
}

/* Module unload: free the states of tasks that never disarmed. */
void iommufd_fault_exit(void)
{
	struct fault_state *st;
	unsigned long index;

	xa_for_each(&fault_tasks, index, st) {
		kfree(st);
		static_branch_dec(&iommufd_faults_armed);
	}
	xa_destroy(&fault_tasks);
}
