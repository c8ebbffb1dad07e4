#ifndef ORCHESTRATOR_CARCHIVE_SHIM_H
#define ORCHESTRATOR_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>

/* glibc declares syncfs only under _GNU_SOURCE; extraction syncs a whole restored tree with it. */
int syncfs(int fd);
#endif
