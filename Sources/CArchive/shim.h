#ifndef ORCHESTRATOR_CARCHIVE_SHIM_H
#define ORCHESTRATOR_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
#include <sys/types.h>

/* glibc declares these only under _GNU_SOURCE; extraction of a restored tree uses them to start
   writing files back early (sync_file_range) and to sync the whole tree at the end (syncfs). */
int syncfs(int fd);
int sync_file_range(int fd, off_t offset, off_t nbytes, unsigned int flags);
#endif
