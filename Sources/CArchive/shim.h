#ifndef ORCHESTRATOR_CARCHIVE_SHIM_H
#define ORCHESTRATOR_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
#endif
