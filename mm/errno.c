/*
 * mm_strerror: names of the MM_E* error codes (include/mmboot/errno.h), for
 * reports and test messages. Portable: no environment calls.
 */
#include <mmboot/errno.h>

static const char *const mm_err_names[MM_ERR_COUNT] = {
	[MM_OK] = "OK",
	[MM_ENOMEM] = "ENOMEM",
	[MM_EINVAL] = "EINVAL",
	[MM_EALIGN] = "EALIGN",
	[MM_EDOUBLEFREE] = "EDOUBLEFREE",
	[MM_ENOTALLOC] = "ENOTALLOC",
	[MM_ERESERVED] = "ERESERVED",
	[MM_ERANGE] = "ERANGE",
	[MM_EBUSY] = "EBUSY",
	[MM_EEXIST] = "EEXIST",
	[MM_ENOENT] = "ENOENT",
	[MM_EORDER] = "EORDER",
	[MM_ECORRUPT] = "ECORRUPT",
};

const char *mm_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= MM_ERR_COUNT || !mm_err_names[err])
		return "E?";
	return mm_err_names[err];
}
