/*
 * exitbs.c: bounded GetMemoryMap/ExitBootServices retry (see exitbs.h).
 *
 *   try 1..max:  size = capacity
 *                GetMemoryMap(buf)        -> error: stop (MAP_FAILED / MAP_TOO_LARGE)
 *                ExitBootServices(key)    -> SUCCESS: done
 *                                         -> INVALID_PARAMETER: map changed, again
 *                                         -> other: stop (REFUSED)
 *   all tries INVALID_PARAMETER: GAVE_UP
 *
 * Between the two calls of one try there is nothing but a local variable
 * store: this is the "nothing printed or allocated in between" rule.
 */
#include "exitbs.h"

static int finish(struct exitbs_result *res, uint32_t outcome, uint64_t status)
{
	res->outcome = outcome;
	res->status = status;
	return outcome == EXITBS_DONE ? 0 : -1;
}

int exitbs_run(const struct exitbs_ops *ops, void *buf, uint64_t capacity,
               uint32_t max_tries, struct exitbs_result *res)
{
	res->tries = 0;
	res->map_size = 0;
	res->desc_size = 0;
	res->desc_version = 0;
	res->pad = 0;
	res->map_key = 0;
	uint64_t st = EXITBS_INVALID_PARAMETER;
	for (uint32_t i = 0; i < max_tries; i++) {
		uint64_t size = capacity, key = 0, dsize = 0;
		uint32_t dver = 0;
		st = ops->get_map(ops->ctx, &size, buf, &key, &dsize, &dver);
		res->map_size = size;
		if (st == EXITBS_BUFFER_TOO_SMALL)
			return finish(res, EXITBS_MAP_TOO_LARGE, st);
		if (st != EXITBS_SUCCESS)
			return finish(res, EXITBS_MAP_FAILED, st);
		st = ops->exit_bs(ops->ctx, key);
		res->tries = i + 1;
		if (st == EXITBS_SUCCESS) {
			res->desc_size = dsize;
			res->desc_version = dver;
			res->map_key = key;
			return finish(res, EXITBS_DONE, st);
		}
		if (st != EXITBS_INVALID_PARAMETER)
			return finish(res, EXITBS_REFUSED, st);
	}
	return finish(res, EXITBS_GAVE_UP, st);
}

const char *exitbs_outcome_name(uint32_t outcome)
{
	static const char *const names[] = {
		"done", "GetMemoryMap failed", "memory map larger than its buffer",
		"ExitBootServices refused", "ExitBootServices kept failing (map kept changing)",
	};
	return outcome < sizeof(names) / sizeof(names[0]) ? names[outcome] : "?";
}
