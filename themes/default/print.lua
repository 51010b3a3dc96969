-- The printed bulletin (简报) and alliance document (公文): GB/T 9704-2012.
-- Read by `jianbao pdf` and the PDF build in jianbao's Lua sandbox; every key
-- is optional (a missing one keeps the built-in value shown here).
return {
  -- Font families, most wanted first.  CJK families first: a Latin family
  -- ahead of them would set “ ” as half-width quotes.  fontconfig maps
  -- FangSong/KaiTi/SimHei all to one sans face, so the families are named.
  fonts = {
    body     = { "FandolFang", "Noto Serif CJK SC" },   -- 仿宋 (FandolFang when texlive has it)
    title    = { "Noto Serif CJK SC" },                 -- 小标宋 substitute (set bold)
    masthead = { "Noto Serif CJK SC" },                 -- mastheads, 发文机关标志 (heaviest weight)
    hei      = { "Noto Sans CJK SC" },                  -- 黑体: 一、 headings
    kai      = { "AR PL UKai CN", "Noto Serif CJK SC" }, -- 楷体: （一） headings, quotes, bylines
    mono     = { "Noto Sans Mono CJK SC", "Noto Sans CJK SC" },
  },
  -- Sizes in points: 初号 42 · 小初 36 · 一号 26 · 二号 22 · 三号 16 · 四号 14 · 小四 12 · 五号 10.5
  sizes = {
    body = 16,        -- 三号
    title = 22,       -- 二号
    subtitle = 16,
    masthead = 36,    -- 小初, shrunk to fit the text block when longer
    issuer = 36,      -- 发文机关标志, shrunk likewise
    small = 14,       -- 四号: page numbers, closing block, 版记
    caption = 12,
    table = 12,
    code = 10.5,
  },
  -- The page in millimetres: A4, text block 156 × 225 from the top-left corner
  -- at (28, 37); 22 lines of 28 characters.
  page = {
    top = 37, left = 28, width = 156, height = 225,
    lines = 22, chars = 28,
    page_number_gap = 7,
  },
  colours = {
    red = "#E0332B",  -- CMYK 0/80/80/0 on screen
    text = "#000000",
    link = "#000000",
  },
}
