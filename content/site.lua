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
  -- Titles and chart types of the statistics series (content/data/*.csv);
  -- a series not named here gets a title from its columns and a chart type
  -- from its shape.
  charts = {
    members = { title = "联盟成员单位数", type = "line" },
    committees = { title = "联盟专门委员会数", type = "bar" },
    ["certification-centres"] = { title = "学习成果认证服务中心（2023年底，共111个）", type = "donut" },
    awards = { title = "获奖与立项" },
    ["alliance-courses"] = { title = "联盟共建课程" },
    ["tutoring-learners"] = { title = "自考助学学习者" },
    tutoring = { title = "自考助学平台" },
    ["alliance-activity"] = { title = "联盟发文与会议（2021年）" },
    ["park-institutions"] = { title = "网络园区入驻与来访高校（2023年）" },
    ["park-resources"] = { title = "网络园区教学资源（2023年）" },
    ["park-learning"] = { title = "网络园区学习情况（2023年）" },
    ["credit-bank"] = { title = "学分银行（2023年）" },
    ["credit-bank-recognition"] = { title = "学分银行认证成果" },
    ["english-alliance"] = { title = "公共英语联盟（2023年）" },
    training = { title = "培训（2023年）" },
  },
  menus = {
    main = {
      { name = "首页", url = "/" },
      { name = "工作简报", url = "/bulletins/" },
      { name = "联盟文件", url = "/documents/" },
      { name = "成员单位", url = "/members/" },
      { name = "课程目录", url = "/courses/" },
      { name = "统计", url = "/stats/" },
      { name = "关于", url = "/about/" },
    },
  },
}
