/* SPDX-License-Identifier: GPL-2.0 */
/* output.c: what a command reports, and errors. */
#ifndef IOMMUFDCTL_OUTPUT_H
#define IOMMUFDCTL_OUTPUT_H

#include "iommufdctl.h"

void out_begin(struct ctl *ctl, const struct ctl_cmd *cmd, const char *input);
void out_dec(struct ctl *ctl, const char *key, __u64 val);
void out_hex(struct ctl *ctl, const char *key, __u64 val);
void out_str(struct ctl *ctl, const char *key, const char *val);
void out_list(struct ctl *ctl, const char *key);
void out_item(struct ctl *ctl);
void out_hint(struct ctl *ctl, const char *text);
void out_text(struct ctl *ctl, const char *text);
void out_ok(struct ctl *ctl);
void out_err(struct ctl *ctl, int err, const char *what);
void out_expected(struct ctl *ctl, int err);
void out_unexpected(struct ctl *ctl, int want, int got);
void out_usage(struct ctl *ctl);
const char *errno_name(int err);

#endif /* IOMMUFDCTL_OUTPUT_H */
