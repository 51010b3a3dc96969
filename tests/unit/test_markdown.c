#include "harness.h"

#include <stdlib.h>

#include "markdown.h"
#include "util.h"

static char *S_html(const char *md, int unsafe)
{
	md_doc d = {0};
	md_parse(&d, md, strlen(md), unsafe);
	md_normalize(&d);
	char *html = md_render_html(&d);
	md_doc_free(&d);
	return html;
}

TEST(soft_break_between_han_joins)
{
	char *h = S_html("第一段文字，\n跨行书写。\n", 0);
	CHECK_STR(h, "<p>第一段文字，跨行书写。</p>\n");
	free(h);
	h = S_html("安徽高校继续\n教育合作联盟\n", 0);
	CHECK_STR(h, "<p>安徽高校继续教育合作联盟</p>\n");
	free(h);
}

TEST(soft_break_next_to_latin_stays)
{
	char *h = S_html("hello\nworld\n", 0);
	CHECK_STR(h, "<p>hello\nworld</p>\n");
	free(h);
	h = S_html("共 13\n份\n", 0);
	CHECK_STR(h, "<p>共 13\n份</p>\n");
	free(h);
}

TEST(soft_break_around_emphasis)
{
	char *h = S_html("**加粗**\n文字\n", 0);
	CHECK_STR(h, "<p><strong>加粗</strong>文字</p>\n");
	free(h);
}

TEST(captions)
{
	char *h = S_html("图 1：联盟成员单位支部共建交流活动\n", 0);
	CHECK_CONTAINS(h, "<p class=\"caption\">");
	CHECK_CONTAINS(h, "图 1：联盟成员单位支部共建交流活动");
	free(h);
	h = S_html("表2: 数据\n", 0);
	CHECK_CONTAINS(h, "class=\"caption\"");
	free(h);
	h = S_html("图书馆开放时间：9点\n", 0);
	CHECK_STR(h, "<p>图书馆开放时间：9点</p>\n");
	free(h);
	CHECK(md_is_caption_text("图 1-2：x", strlen("图 1-2：x")));
	CHECK(md_is_caption_text("图：x", strlen("图：x")));
	CHECK(!md_is_caption_text("图示：x", strlen("图示：x")));
}

TEST(raw_html_dropped_unless_allowed)
{
	char *h = S_html("<script>alert(1)</script>\n\n段落<b>粗</b>\n", 0);
	CHECK(!strstr(h, "<script>"));
	CHECK(!strstr(h, "<b>"));
	free(h);
	h = S_html("<div class=\"x\">块</div>\n", 1);
	CHECK_CONTAINS(h, "<div class=\"x\">块</div>");
	free(h);
	/* tagfilter still disarms the dangerous tags with raw HTML allowed */
	h = S_html("<script>alert(1)</script>\n", 1);
	CHECK(!strstr(h, "<script>"));
	free(h);
}

TEST(dangerous_links_become_text)
{
	char *h = S_html("[点我](javascript:alert(1)) 和 [正常](https://example.org/)\n", 0);
	CHECK(!strstr(h, "javascript"));
	CHECK_CONTAINS(h, "点我");
	CHECK_CONTAINS(h, "<a href=\"https://example.org/\">正常</a>");
	free(h);
	h = S_html("[x](JavaScript:alert(1))\n", 0);
	CHECK_STR(h, "<p>x</p>\n");
	free(h);
}

TEST(gfm_extensions)
{
	char *h = S_html("| 序号 | 文号 |\n|---|---|\n| 1 | 继教合作联盟〔2021〕1号 |\n\n~~删~~ https://example.org\n", 0);
	CHECK_CONTAINS(h, "<table>");
	CHECK_CONTAINS(h, "<td>继教合作联盟〔2021〕1号</td>");
	CHECK_CONTAINS(h, "<del>删</del>");
	CHECK_CONTAINS(h, "<a href=\"https://example.org\">https://example.org</a>");
	free(h);
	/* each extension alone, in text without the others' characters; "www."
	 * alone (no ':' or '@' anywhere), after a lone 'w' and at the very start */
	static const struct {
		const char *md, *want;
		int raw;
	} alone[] = {
		{"见 www.ahjxjy.cn 与 office@ahjxjy.cn。\n", "<a href=\"http://www.ahjxjy.cn\">www.ahjxjy.cn</a>", 0},
		{"见 www.ahjxjy.cn 与 office@ahjxjy.cn。\n", "<a href=\"mailto:office@ahjxjy.cn\">office@ahjxjy.cn</a>", 0},
		{"w 与 ww 见 www.ahjxjy.cn\n", "<a href=\"http://www.ahjxjy.cn\">www.ahjxjy.cn</a>", 0},
		{"www.ahjxjy.cn", "<a href=\"http://www.ahjxjy.cn\">www.ahjxjy.cn</a>", 0},
		{"| 甲 |\n|---|\n| 乙 |\n", "<td>乙</td>", 0},
		{"~~旧~~新\n", "<del>旧</del>新", 0},
		{"<script>x</script>\n", "&lt;script>", 1},
	};
	for (size_t i = 0; i < sizeof alone / sizeof alone[0]; i++) {
		h = S_html(alone[i].md, alone[i].raw);
		CHECK_CONTAINS(h, alone[i].want);
		free(h);
	}
	h = S_html("见 ww.ahjxjy.cn 与 wwww\n", 0);
	CHECK(strstr(h, "<a ") == NULL);
	free(h);
}

TEST(title_from_first_heading)
{
	md_doc d = {0};
	const char *md = "前言\n\n# 工作简报 第 300 期\n\n正文\n";
	md_parse(&d, md, strlen(md), 0);
	char *t = md_take_title(&d, 1);
	CHECK_STR(t, "工作简报 第 300 期");
	CHECK_INT(md_issue_from_title(t), 300);
	char *h = md_render_html(&d);
	CHECK(!strstr(h, "<h1>"));
	free(h);
	free(t);
	md_doc_free(&d);
	CHECK_INT(md_issue_from_title("2022年第10期"), 10);
	CHECK_INT(md_issue_from_title("第一期"), 0);
	CHECK_INT(md_issue_from_title("无"), 0);
}

TEST(summary_is_cut_by_characters)
{
	md_doc d = {0};
	const char *md = "## 标题不算\n\n一二三四五六七八九十一二三\n";
	md_parse(&d, md, strlen(md), 0);
	char *s = md_summary(&d, 5);
	CHECK_STR(s, "一二三四…");
	free(s);
	s = md_summary(&d, 100);
	CHECK_STR(s, "一二三四五六七八九十一二三");
	free(s);
	md_doc_free(&d);
	/* one character too many, all ASCII: the ellipsis is longer than what it replaces */
	md = "abcdef\n";
	md_parse(&d, md, strlen(md), 0);
	s = md_summary(&d, 5);
	CHECK_STR(s, "abcd…");
	free(s);
	md_doc_free(&d);
}

int main(void)
{
	h_suite = "markdown";
	RUN(soft_break_between_han_joins);
	RUN(soft_break_next_to_latin_stays);
	RUN(soft_break_around_emphasis);
	RUN(captions);
	RUN(raw_html_dropped_unless_allowed);
	RUN(dangerous_links_become_text);
	RUN(gfm_extensions);
	RUN(title_from_first_heading);
	RUN(summary_is_cut_by_characters);
	return HARNESS_DONE();
}
