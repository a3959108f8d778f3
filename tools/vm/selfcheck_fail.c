// SPDX-License-Identifier: GPL-2.0
/*
 * Used only by the VM runner's own check: one test passes and one breaks
 * an assertion, so a correct runner must report a failed run.
 */
#include "kselftest_harness.h"

TEST(passes)
{
	ASSERT_EQ(1, 1);
}

TEST(breaks_an_assertion)
{
	ASSERT_EQ(1, 2);
}

TEST_HARNESS_MAIN
