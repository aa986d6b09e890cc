// The CPU side of the reduce family; its entry points are declared in core/reduce.h.
#pragma once
#include "core/reduce.h"
