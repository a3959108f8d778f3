/* SPDX-License-Identifier: GPL-2.0 */
/*
 * main.c: the top of the tool; nothing calls it but the linker, which
 * links libedit's user lookups to these (see main.c).
 */
#ifndef IOMMUFDCTL_MAIN_H
#define IOMMUFDCTL_MAIN_H

#include <sys/types.h>

struct passwd;
struct passwd *__wrap_getpwent(void);
struct passwd *__wrap_getpwuid(uid_t uid);
int __wrap_getpwnam_r(const char *name, struct passwd *pwd, char *buf,
		      size_t size, struct passwd **result);
int __wrap_getpwuid_r(uid_t uid, struct passwd *pwd, char *buf,
		      size_t size, struct passwd **result);
void __wrap_setpwent(void);
void __wrap_endpwent(void);

#endif /* IOMMUFDCTL_MAIN_H */
