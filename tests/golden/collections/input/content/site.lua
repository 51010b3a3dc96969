return {
  title = "联盟测试站",
  base_url = "https://example.org/",
  menus = { main = {
    { name = "首页", url = "/" }, { name = "联盟文件", url = "/documents/" },
    { name = "成员单位", url = "/members/" }, { name = "课程目录", url = "/courses/" }, { name = "统计", url = "/stats/" },
  } },
}
