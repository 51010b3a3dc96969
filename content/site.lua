-- The site table: everything the theme and the generator need to know about
-- the portal.  This file runs in jianbao's Lua sandbox.
return {
  title = "安徽继续教育网络园区",
  subtitle = "安徽高校继续教育合作联盟 · 工作简报",
  description = "安徽继续教育网络园区与安徽高校继续教育合作联盟的工作简报、联盟文件、成员单位与统计数据。",
  -- The published address; `jianbao build --base-url URL` overrides it.
  base_url = "https://example.org/",
  language = "zh-CN",
  theme = "default",
  copyright = "安徽继续教育网络园区管理中心",
  menus = {
    main = {
      { name = "首页", url = "/" },
      { name = "工作简报", url = "/bulletins/" },
      { name = "联盟文件", url = "/documents/" },
      { name = "成员单位", url = "/members/" },
      { name = "课程目录", url = "/courses/" },
      { name = "关于", url = "/about/" },
    },
  },
}
