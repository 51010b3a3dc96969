/* collections — the alliance's typed data beside the Markdown:
 *   content/members.csv     the member directory (one row per member)
 *   content/committees.csv  the 专门委员会, one row per (committee, member)
 *   content/courses.csv     the self-study tutoring course catalogue
 * Every row is checked (required cells, known roles and committees, dates,
 * URLs, members that committees name) and problems are reported as
 * file:line:field.  The vocabularies (member roles, committee names) have
 * defaults that site.lua can replace (member_roles = {…}, committees = {…}). */
#ifndef JB_COLLECTIONS_H
#define JB_COLLECTIONS_H

#include <lua.h>

#include "source.h"
#include "util.h"

typedef struct member {
	char *name, *role, *type, *city, *joined, *website, *note, *slug;
	strvec short_names;
	strvec sources; /* bulletin paths, "2026/02" */
	int line;
	size_t index; /* in the collections' members */
} member;

typedef struct committee_seat {
	member *member;
	char *role; /* 主任单位 / 副主任单位 / 秘书处 / 委员单位 */
} committee_seat;

typedef struct committee {
	char *name, *founded, *slug, *note;
	committee_seat *seats;
	size_t nseats;
	strvec sources;
	int line;
} committee;

typedef struct course {
	char *code, *name, *major, *level, *exam_university, *credits, *resources, *note, *slug;
	strvec sources;
	int line;
} course;

typedef struct major {
	char *name, *slug;
	course **courses;
	size_t ncourses;
} major;

typedef struct collections {
	member **members; /* in file order */
	size_t nmembers;
	committee **committees; /* in the order of the vocabulary */
	size_t ncommittees;
	course **courses; /* in file order */
	size_t ncourses;
	major *majors; /* in order of first appearance */
	size_t nmajors;
	strvec roles; /* the member roles, in rank order */
	strmap mention_index; /* first character → name_list*, for mentions */
	unsigned char initials[0x10000 / 8]; /* BMP characters that start a name */
	char *members_file, *committees_file, *courses_file;
} collections;

/* Loads whichever of the three files exist.  The vocabularies are read
 * from the site table in the registry of L.  Problems are reported and
 * counted; returns -1 only when a file cannot be read. */
int collections_load(collections *c, lua_State *L, source *src, const char *content_dir);
void collections_free(collections *c);

member *collections_member(const collections *c, const char *name);

/* The members whose name or short name text (valid UTF-8) mentions, each
 * once, in the order of members.csv.  Caller frees *out (the members are
 * borrowed). */
void collections_mentions(const collections *c, const char *text, size_t len, member ***out, size_t *n);

#endif
