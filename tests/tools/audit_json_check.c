/*
 * audit_json_check.c — validate `xenguard audit --format json` with jansson.
 *
 * Usage: audit_json_check FILE. Checks the documented schema
 * (xenguard-audit/1): tool, host, summary and every check's required
 * fields and enumerations, and that the summary counts agree with the
 * checks. Prints the first problem and exits 1, or exits 0.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static int bad(const char *what)
{
    fprintf(stderr, "audit_json_check: %s\n", what);
    return 1;
}

static int one_of(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (!strcmp(s, *set))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    json_error_t je;
    if (argc != 2)
        return bad("usage: audit_json_check FILE");
    json_t *doc = json_load_file(argv[1], 0, &je);
    if (!doc) {
        fprintf(stderr, "audit_json_check: %s:%d: %s\n", argv[1], je.line, je.text);
        return 1;
    }
    static const char *const statuses[] = {"pass", "fail", "n/a", "error", "waived", NULL};
    static const char *const sevs[] = {"info", "low", "medium", "high", "critical", NULL};
    int rc = 0;
    json_t *tool = json_object_get(doc, "tool"), *host = json_object_get(doc, "host");
    json_t *summary = json_object_get(doc, "summary"), *checks = json_object_get(doc, "checks");
    if (strcmp(json_string_value(json_object_get(doc, "schema")) ?: "", "xenguard-audit/1"))
        rc = bad("schema is not xenguard-audit/1");
    else if (!json_is_string(json_object_get(tool, "name")) ||
             !json_is_string(json_object_get(tool, "version")))
        rc = bad("tool.name / tool.version missing");
    else if (!json_is_string(json_object_get(host, "hostname")) ||
             !json_is_string(json_object_get(host, "root")) ||
             !json_is_boolean(json_object_get(host, "live")) ||
             !json_is_boolean(json_object_get(host, "dom0")) ||
             !json_is_string(json_object_get(host, "toolstack")))
        rc = bad("host fields missing");
    else if (!json_is_array(checks) || json_array_size(checks) == 0)
        rc = bad("checks is not a non-empty array");
    if (rc)
        goto out;
    size_t counts[5] = {0}, i;
    json_t *c;
    json_array_foreach(checks, i, c)
    {
        const char *st = json_string_value(json_object_get(c, "status"));
        json_t *ev = json_object_get(c, "evidence");
        if (!json_is_string(json_object_get(c, "id")) || !one_of(st, statuses) ||
            !one_of(json_string_value(json_object_get(c, "severity")), sevs) ||
            !json_is_string(json_object_get(c, "remediation")) ||
            !json_is_string(json_object_get(c, "title")) ||
            !json_is_string(json_object_get(c, "practice")) || !json_is_array(ev) ||
            !json_object_get(c, "reason")) {
            fprintf(stderr, "audit_json_check: check %zu lacks a required field\n", i);
            rc = 1;
            goto out;
        }
        size_t k;
        json_t *e;
        json_array_foreach(ev, k, e) if (!json_is_string(e))
        {
            rc = bad("evidence holds a non-string");
            goto out;
        }
        for (int s = 0; s < 5; s++)
            if (!strcmp(st, statuses[s]))
                counts[s]++;
    }
    for (int s = 0; s < 5; s++)
        if ((size_t)json_integer_value(json_object_get(summary, statuses[s])) != counts[s]) {
            fprintf(stderr, "audit_json_check: summary.%s disagrees with the checks\n",
                    statuses[s]);
            rc = 1;
        }
    if (!json_is_integer(json_object_get(summary, "exit")))
        rc = bad("summary.exit missing");
out:
    json_decref(doc);
    return rc;
}
