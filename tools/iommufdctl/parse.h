/* SPDX-License-Identifier: GPL-2.0 */
/* parse.c: statements into words, words into values, and the variables. */
#ifndef IOMMUFDCTL_PARSE_H
#define IOMMUFDCTL_PARSE_H

#include "iommufdctl.h"

int parse_words(struct ctl *ctl, const char *text, char **words, int max);
void free_words(char **words, int n);
const char *var_get(struct ctl *ctl, const char *name);
void var_set(struct ctl *ctl, const char *name, const char *value);
int parse_u64(struct ctl *ctl, const char *what, const char *s, __u64 *v);
int parse_u32(struct ctl *ctl, const char *what, const char *s, __u32 *v);
int parse_flags(struct ctl *ctl, const char *what, const char *s,
		const struct ctl_flag *names, __u64 *v);
int parse_buf(struct ctl *ctl, const char *what, const char *s, void **va,
	      __u64 *room);
int parse_range(struct ctl *ctl, const char *what, const char *s,
		struct iommu_iova_range *range);
int parse_errno(const char *s);
int parse_args(struct ctl *ctl, const struct ctl_cmd *cmd, char **words,
	       int n, struct ctl_args *a);
const char *opt(const struct ctl_args *a, const char *key);

#endif /* IOMMUFDCTL_PARSE_H */
