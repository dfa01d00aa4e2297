/* libaemp: AnyEvent::MP 2.x nodes in C. One include for everything. */
#ifndef AEMP_AEMP_H
#define AEMP_AEMP_H

#include "aemp/dataconn.h"
#include "aemp/db.h"
#include "aemp/error.h"
#include "aemp/func.h"
#include "aemp/logcatcher.h"
#include "aemp/node.h"
#include "aemp/rc.h"
#include "aemp/service.h"
#include "aemp/stats.h"
#include "aemp/value.h"
#include "aemp/version.h"

#endif
