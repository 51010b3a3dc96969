-- Links the first mention of every member of the alliance in a bulletin or
-- document to the member's page in the directory (/members/…/).

local names = {}   -- { text = "安徽大学", member = <member table> }, longest first

on("load", function(site)
  for _, m in ipairs(site.members) do
    names[#names + 1] = { text = m.name, member = m }
    for _, short in ipairs(m.short_names) do
      if utf8.len(short) >= 2 then names[#names + 1] = { text = short, member = m } end
    end
  end
  -- longer names first, so 安徽大学 wins over 安大 at the same place
  table.sort(names, function(a, b)
    if #a.text ~= #b.text then return #a.text > #b.text end
    return a.text < b.text
  end)
end)

-- The earliest mention in s of a member not linked yet: position, name entry.
local function first_mention(s, linked)
  local best, best_at
  for _, n in ipairs(names) do
    if not linked[n.member] then
      local at = s:find(n.text, 1, true)
      if at and (not best_at or at < best_at) then best, best_at = n, at end
    end
  end
  return best_at, best
end

-- Splits text nodes around mentions; never inside links, headings or code.
local function link_children(node, linked)
  if not node.children then return end
  local out = {}
  for _, child in ipairs(node.children) do
    if child.type == "text" then
      local s = child.literal
      while true do
        local at, n = first_mention(s, linked)
        if not at then break end
        if at > 1 then out[#out + 1] = { type = "text", literal = s:sub(1, at - 1) } end
        out[#out + 1] = { type = "link", url = url(n.member.url), title = n.member.name,
                          children = { { type = "text", literal = n.text } } }
        linked[n.member] = true
        s = s:sub(at + #n.text)
      end
      if #s > 0 then out[#out + 1] = { type = "text", literal = s } end
    else
      if child.type ~= "link" and child.type ~= "heading" and child.type ~= "code_block" then
        link_children(child, linked)
      end
      out[#out + 1] = child
    end
  end
  node.children = out
end

on("page", function(page)
  if (page.kind ~= "bulletin" and page.kind ~= "document") or #names == 0 then return end
  link_children(page.doc, {})
end)
