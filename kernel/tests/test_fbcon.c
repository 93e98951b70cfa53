/*
 * In-kernel test of the framebuffer console: when a screen is in use, every
 * character cell and the margins of the framebuffer hold exactly what the
 * renderer says it drew (fbcon_verify reads the whole framebuffer back), and
 * its state invariants hold. Without a screen there is nothing to check.
 */
#include "../kernel.h"
#include "../ktest.h"
#include "../fbcon.h"
#include "../fbcon_draw.h"

static void test_fbcon_screen(struct ktest_ctx *t)
{
	const struct fbcon *fb = fbcon_state();
	if (!fb) {
		mm_printf("# fbcon_screen: no screen in this run, nothing to check\n");
		return;
	}
	KT_EXPECT_EQ(t, fbcon_check(fb), 0);
	KT_EXPECT_EQ(t, fbcon_verify(fb), 0);
	KT_EXPECT(t, fb->cols >= 40 && fb->rows >= 10, "screen of %ux%u cells", fb->cols, fb->rows);
}
KTEST(fbcon_screen, test_fbcon_screen);
