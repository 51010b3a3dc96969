# jianbao check and the collections: every error names file:line:col and fails.
. "$TESTS_ROOT/lib.sh"

r=$WORK/site
new_repo "$r"
bulletin "$r/content/bulletins/2024/01.md" 2024 1 46 2024-01-11 开新篇
bulletin "$r/content/bulletins/2024/02.md" 2024 2 47 2024-03-01 第二期
cat >>"$r/content/bulletins/2024/01.md" <<'MD'

合肥工业大学、安大与安徽师范大学共同推进。依据继教合作联盟〔2021〕2号开展工作。
MD
mkdir -p "$r/content/documents/2021"
cat >"$r/content/documents/2021/01.md" <<'MD'
---
number: 继教合作联盟〔2021〕1号
title: 关于印发《章程》的通知
issuer: 安徽高校继续教育合作联盟
source: 2024/01
---
章程见继教合作联盟〔2021〕2号。
MD
cat >"$r/content/documents/2021/02.md" <<'MD'
---
number: 继教合作联盟〔2021〕2号
title: 关于印发组织机构名单的通知
date: 2021-02-01
---
合肥工业大学为理事长单位。
MD
cat >"$r/content/members.csv" <<'CSV'
name,short_names,role,type,city,joined,website,source,note
合肥工业大学,合工大,理事长单位,本科高校,合肥,2020-12-24,https://www.hfut.edu.cn/,2024/01,
安徽大学,安大,副理事长单位,本科高校,合肥,,,2024/01,
安徽师范大学,安师大,副理事长单位,本科高校,芜湖,2021,,,
CSV
cat >"$r/content/committees.csv" <<'CSV'
committee,founded,member,role,source,note
学分银行建设专门委员会,2021-06-18,合肥工业大学,主任单位,2024/01,
学分银行建设专门委员会,,安徽大学,委员单位,,
老年教育专门委员会,,,,,
CSV
cat >"$r/content/courses.csv" <<'CSV'
code,name,major,level,exam_university,credits,resources,source,note
00015,英语（二）,汉语言文学,本科,,14,,,
03708,中国近现代史纲要,汉语言文学,本科,,2,,,
00015,英语（二）,法学,本科,,14,,,示意
CSV
git_commit "$r" 2024-03-05T10:00:00+08:00 "site"

(cd "$r" && "$JIANBAO" check) >"$WORK/clean.log" 2>&1
expect_status "check: a clean site passes" 0 $?
expect_contains "check: says what it checked" "$WORK/clean.log" "check: 2 bulletins, 2 documents, 0 pages, 3 members, 5 committees, 3 courses"
if [ -e "$r/public" ]; then not_ok "check: publishes nothing"; else ok "check: publishes nothing"; fi
(cd "$r" && "$JIANBAO" check --out x) >/dev/null 2>&1
expect_status "check: --out is refused" 2 $?

(cd "$r" && "$JIANBAO" build --quiet --out "$WORK/out") >"$WORK/build.log" 2>&1
expect_status "collections: the site builds" 0 $?
o=$WORK/out
expect_contains "documents: a reference by number becomes a link" "$o/documents/2021/01/index.html" '<a href="/documents/2021/02/" title="关于印发组织机构名单的通知">继教合作联盟〔2021〕2号</a>'
expect_contains "documents: bulletins link document numbers too" "$o/bulletins/2024/01/index.html" 'href="/documents/2021/02/"'
expect_contains "documents: the index lists them" "$o/documents/index.html" "继教合作联盟〔2021〕1号"
for f in members/index.html committees/index.html courses/index.html; do
	if [ -f "$o/$f" ]; then ok "collections: $f written"; else not_ok "collections: $f written"; fi
done
m=$(find "$o/members" -mindepth 2 -name index.html | wc -l)
if [ "$m" -eq 3 ]; then ok "members: one page per member"; else not_ok "members: one page per member" "found $m"; fi
hf=$(grep -l "合肥工业大学" "$o"/members/*/index.html | head -1)
expect_contains "members: a member page lists the bulletins that mention it" "$hf" "开新篇"
expect_contains "members: a member page lists the documents that mention it" "$hf" "关于印发组织机构名单的通知"
expect_contains "members: a member page lists its committees" "$hf" "学分银行建设专门委员会"
ad=$(grep -l "<h1[^>]*>安徽大学" "$o"/members/*/index.html | head -1)
expect_contains "members: a short name (安大) counts as a mention" "$ad" "开新篇"

# names that share their first characters: each is found by all of itself,
# at the very end of a text too, and a name cut short is none
n=$WORK/names
new_repo "$n"
bulletin "$n/content/bulletins/2024/01.md" 2024 1 46 2024-01-11 第一期
bulletin "$n/content/bulletins/2024/02.md" 2024 2 47 2024-02-11 第二期
bulletin "$n/content/bulletins/2024/03.md" 2024 3 48 2024-03-11 第三期
printf '\n联合安徽师范大学皖江学院' >>"$n/content/bulletins/2024/01.md"
printf '\n安徽师范大与皖江学院。\n' >>"$n/content/bulletins/2024/02.md"
printf '\n走进江淮：安徽师范大学。\n' >>"$n/content/bulletins/2024/03.md"
cat >"$n/content/members.csv" <<'CSV'
name,short_names,role,type,city,joined,website,source,note
安徽师范大学,,副理事长单位,本科高校,芜湖,,,,
安徽师范大学皖江学院,皖江,成员单位,本科高校,芜湖,,,,
安徽大学江淮学院,江淮,成员单位,本科高校,合肥,,,,
CSV
git_commit "$n" 2024-03-12T10:00:00+08:00 "names"
(cd "$n" && "$JIANBAO" build --quiet --out "$WORK/names.out") >"$WORK/names.log" 2>&1
# the bulletins listed on the page of the member whose <h1> is $1
mentioned() {
	f=$(grep -l "<h1[^>]*>$1<" "$WORK/names.out"/members/*/index.html | head -1)
	for t in 第一期 第二期 第三期; do grep -q "$t" "$f" 2>/dev/null && printf '%s ' "$t"; done
}
got="$(mentioned 安徽师范大学皖江学院)/$(mentioned 安徽大学江淮学院)/$(mentioned 安徽师范大学)"
if [ "$got" = "第一期 第二期 /第三期 /第一期 第三期 " ]; then
	ok "members: names with a common start, a short name and a name at the end of a text are each found"
else
	not_ok "members: names with a common start, a short name and a name at the end of a text are each found" \
		"got '$got'" "$(head -5 "$WORK/names.log")"
fi
c=$(find "$o/courses" -mindepth 3 -name index.html | wc -l)
if [ "$c" -eq 3 ]; then ok "courses: one page per course and major"; else not_ok "courses: one page per course and major" "found $c"; fi

# ---- errors: each in a copy of the clean site ----
# broken NAME FILE CONTENT EXPECTED
broken() {
	b=$WORK/b-$(echo "$1" | tr -c 'a-zA-Z0-9\n' '_')
	rm -rf "$b"
	cp -r "$r" "$b"
	printf '%s\n' "$3" >"$b/$2"
	(cd "$b" && git add -A && GIT_AUTHOR_DATE=2024-03-06T10:00:00+08:00 GIT_COMMITTER_DATE=2024-03-06T10:00:00+08:00 git commit -q -m x)
	(cd "$b" && "$JIANBAO" check) >"$b.log" 2>&1
	st=$?
	if [ $st -eq 1 ] && grep -qF -- "$4" "$b.log"; then ok "$1"; else not_ok "$1" "status $st, expected 1 and: $4" "$(cat "$b.log")"; fi
}

broken "csv: a ragged row" content/members.csv 'name,short_names,role,type,city,joined,website,source,note
合肥工业大学,合工大,理事长单位,本科高校,合肥,2020-12-24,https://www.hfut.edu.cn/,2024/01' \
	"content/members.csv:2:9: error: row has 8 fields, the header has 9"
broken "csv: an unterminated quote" content/courses.csv 'code,name,major,level,exam_university,credits,resources,source,note
00015,"英语（二）,汉语言文学,本科,,14,,,' "content/courses.csv:2:2: error: unterminated quoted field"
broken "csv: a duplicate header" content/courses.csv 'code,name,major,name
00015,a,b,c' "content/courses.csv:1:4: error: duplicate column 'name' (also column 2)"
broken "csv: an unknown role" content/members.csv 'name,short_names,role,type,city,joined,website,source,note
合肥工业大学,,会长单位,本科高校,合肥,,,,' "content/members.csv:2:3: error: unknown role '会长单位' (one of: 理事长单位、副理事长单位、常务理事单位、成员单位)"
broken "csv: an unknown committee" content/committees.csv 'committee,founded,member,role,source,note
宣传委员会,,合肥工业大学,委员单位,,' "content/committees.csv:2:1: error: unknown committee '宣传委员会'"
broken "csv: a committee member missing from members.csv" content/committees.csv 'committee,founded,member,role,source,note
老年教育专门委员会,,安徽医科大学,委员单位,,' "content/committees.csv:2:3: error: '安徽医科大学' is not in content/members.csv"
broken "csv: a duplicate member" content/members.csv 'name,short_names,role,type,city,joined,website,source,note
安徽大学,,成员单位,,,,,,
安徽大学,,成员单位,,,,,,' "content/members.csv:3:1: error: member '安徽大学' is listed twice (first on line 2)"
broken "csv: a bad course code" content/courses.csv 'code,name,major,level,exam_university,credits,resources,source,note
15,英语（二）,法学,本科,,14,,,' "content/courses.csv:2:1: error: course code must be five digits (e.g. 00015), got \"15\""
broken "csv: a source naming no bulletin" content/members.csv 'name,short_names,role,type,city,joined,website,source,note
合肥工业大学,,理事长单位,,,,,2030/01,
安徽大学,,成员单位,,,,,,' "content/members.csv:2: error: source '2030/01' names no bulletin (content/bulletins/2030/01.md does not exist)"

bulletin_text() {
	printf -- '---\ntitle: %s\nissue: %s\ntotal: %s\ndate: %s\n---\n\n正文。\n' "$1" "$2" "$3" "$4"
}
broken "bulletins: an issue number used twice in a year" content/bulletins/2024/02.md "$(bulletin_text 乙 1 47 2024-03-01)" \
	"content/bulletins/2024/02.md:3:8: error: 第1期 (2024-03-01) does not come after 第1期 of content/bulletins/2024/01.md (2024-01-11)"
broken "bulletins: issue numbers out of order" content/bulletins/2024/02.md "$(bulletin_text 乙 2 47 2024-01-01)" \
	"content/bulletins/2024/01.md:4:8: error: 第1期 (2024-01-11) does not come after 第2期 of content/bulletins/2024/02.md (2024-01-01)"
broken "bulletins: a running number that does not grow" content/bulletins/2024/02.md "$(bulletin_text 乙 2 46 2024-03-01)" \
	"content/bulletins/2024/02.md:4:8: error: 总第46期 (2024-03-01) does not come after 总第46期 of content/bulletins/2024/01.md (2024-01-11)"
doc_text() {
	printf -- '---\nnumber: %s\ntitle: 通知\n%s---\n\n正文。\n' "$1" "$2"
}
broken "documents: a number used twice" content/documents/2021/02.md "$(doc_text 继教合作联盟〔2021〕1号 "")" \
	"content/documents/2021/02.md:2:9: error: document number 继教合作联盟〔2021〕1号 is also used by content/documents/2021/01.md"
broken "documents: square brackets" content/documents/2021/02.md "$(doc_text '继教合作联盟[2021]2号' "")" \
	"content/documents/2021/02.md:2:9: error: document number \"继教合作联盟[2021]2号\": the year goes in 六角括号 〔〕, not ["
broken "documents: a leading zero" content/documents/2021/02.md "$(doc_text 继教合作联盟〔2021〕02号 "")" \
	"content/documents/2021/02.md:2:9: error: document number \"继教合作联盟〔2021〕02号\": no leading zeros in the number"
broken "documents: 第 before the number" content/documents/2021/02.md "$(doc_text 继教合作联盟〔2021〕第2号 "")" \
	"error: document number \"继教合作联盟〔2021〕第2号\": no 第 before the number"
broken "documents: a date outside the number's year" content/documents/2021/02.md "$(doc_text 继教合作联盟〔2021〕2号 "date: 2022-01-05
")" "content/documents/2021/02.md:4:7: error: date 2022-01-05 is not in the year of the number 继教合作联盟〔2021〕2号"
broken "documents: a missing number" content/documents/2021/02.md "$(printf -- '---\ntitle: 通知\n---\n正文\n')" \
	"content/documents/2021/02.md:1:1: error: an alliance document needs 'number:"

# GitHub annotations
(cd "$WORK"/b-csv__an_unknown_role && "$JIANBAO" check --diagnostics github) >"$WORK/gh.log" 2>&1
expect_contains "check: GitHub annotation format" "$WORK/gh.log" "::error file=content/members.csv,line=2,col=3::unknown role '会长单位'"
