-- Golden site: a small portal with three bulletins over two years.
return {
  title = "测试园区",
  subtitle = "继续教育合作联盟 · 工作简报",
  description = "金标准测试站点：三期简报与一个页面。",
  base_url = "https://example.org/",
  copyright = "测试园区管理中心",
  menus = {
    main = {
      { name = "首页", url = "/" },
      { name = "工作简报", url = "/bulletins/" },
      { name = "关于", url = "/about/" },
    },
  },
}
