/* SPDX-License-Identifier: GPL-2.0 */
/* commands.c: the command table and the handlers. */
#ifndef IOMMUFDCTL_COMMANDS_H
#define IOMMUFDCTL_COMMANDS_H

#include "iommufdctl.h"

extern const struct ctl_cmd ctl_cmds[];
const struct ctl_cmd *cmd_next(const struct ctl_cmd *cmd);
const struct ctl_cmd *cmd_find(char **words, int n, int *used);

#endif /* IOMMUFDCTL_COMMANDS_H */
