/* test_window.c - unit tests of the calendar of application windows (committees.c,
 * node.c): a window's days are Beijing time (UTC+8), so it opens at 00:00:00 of its first
 * day there (16:00:00 UTC the day before) and closes after 23:59:59 of its last (15:59:59
 * UTC that day), whatever the node's own time zone; and the times printed on forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "committees.h"
#include "db.h"
#include "node.h"

static time_t g_now;
static time_t fake_now(void) { return g_now; }

/* An in-memory node holding one committee with a window for GC-JZ in March 2026. */
static int setup_node(void **state) {
  zc_node *p = calloc(1, sizeof *p);
  assert_non_null(p);
  assert_int_equal(db_open(&p->db, ":memory:"), 0);
  assert_int_equal(db_migrate(p->db, "schemas"), 0);
  assert_int_equal(db_exec(p->db, "INSERT INTO committees(id, node, name) VALUES('c1', '650000', '工程系列评审委员会')", ""), 0);
  assert_int_equal(db_exec(p->db, "INSERT INTO committee_windows(committee_id, specialty, opens, closes)"
                           " VALUES('c1', 'GC-JZ', '2026-03-01', '2026-03-31')", ""), 0);
  p->xNow = fake_now;
  *state = p;
  return 0;
}

static int teardown_node(void **state) {
  zc_node *p = *state;
  node_close(p);
  free(p);
  return 0;
}

/* Is the window open at UTC time zUtc ("YYYY-MM-DDTHH:MM:SSZ")? */
static int open_at(zc_node *p, const char *zUtc) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  assert_non_null(strptime(zUtc, "%Y-%m-%dT%H:%M:%SZ", &tm));
  g_now = timegm(&tm);
  json_t *w = committee_window(p, "c1", "GC-JZ");
  assert_non_null(w);
  int bOpen = json_is_true(json_object_get(w, "open"));
  json_decref(w);
  return bOpen;
}

static void test_opens_at_midnight_in_beijing(void **state) {
  zc_node *p = *state;
  assert_false(open_at(p, "2026-02-28T15:59:59Z")); /* 2026-02-28 23:59:59 in Beijing */
  assert_true(open_at(p, "2026-02-28T16:00:00Z"));  /* 2026-03-01 00:00:00 */
  assert_true(open_at(p, "2026-03-01T00:00:00Z"));  /* 08:00 */
}

static void test_closes_after_its_last_day_in_beijing(void **state) {
  zc_node *p = *state;
  assert_true(open_at(p, "2026-03-31T15:59:59Z"));  /* 2026-03-31 23:59:59 in Beijing */
  assert_false(open_at(p, "2026-03-31T16:00:00Z")); /* 2026-04-01 00:00:00 */
  assert_false(open_at(p, "2026-03-31T20:00:00Z")); /* still the 31st in UTC */
}

static void test_the_node_time_zone_does_not_matter(void **state) {
  zc_node *p = *state;
  setenv("TZ", "America/Los_Angeles", 1);
  tzset();
  assert_true(open_at(p, "2026-02-28T16:00:00Z"));
  assert_false(open_at(p, "2026-03-31T16:00:00Z"));
  unsetenv("TZ");
  tzset();
}

static void test_today_and_form_times(void **state) {
  zc_node *p = *state;
  char zDay[11], zTime[32];
  open_at(p, "2026-12-31T16:30:00Z");
  committee_today(p, zDay);
  assert_string_equal(zDay, "2027-01-01");
  node_beijing_time(p, "%Y-%m-%d %H:%M", zTime, sizeof zTime);
  assert_string_equal(zTime, "2027-01-01 00:30");
  node_beijing_time(p, "%Y-%m-%d %H:%M", zTime, 4); /* too small: empty, never cut */
  assert_string_equal(zTime, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_opens_at_midnight_in_beijing, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_closes_after_its_last_day_in_beijing, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_the_node_time_zone_does_not_matter, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_today_and_form_times, setup_node, teardown_node),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
