// SPDX-License-Identifier: GPL-2.0
/*
 * Loaded only by the VM runner's own check: it raises one kernel warning,
 * which the runner must notice and turn into a failed run.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int __init runner_warn_init(void)
{
	WARN(1, "runner_warn: deliberate warning for the runner check\n");
	return 0;
}

static void __exit runner_warn_exit(void)
{
}

module_init(runner_warn_init);
module_exit(runner_warn_exit);
MODULE_DESCRIPTION("Raises a WARN to prove the VM runner catches it");
MODULE_LICENSE("GPL");
