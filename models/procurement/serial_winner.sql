/* searchlight
id          = "procurement.serial_winner"
catalog     = "M37"
title       = "“标王”：同一采购人同类项目长期由一家中标"
title_en    = "Serial winner: one supplier takes most of a buyer's lots in a category"
domain      = "procurement"
area        = "招标投标"
severity    = "medium"
owner       = "党风政风监督室"
description = """
同一采购人同一品目的标段达到一定数量、其中一家供应商中标占比超过阈值的，为围标串标、
指定中标或利益输送的疑点；线索主体为“采购人|中标人统一社会信用代码”。"""
basis = [
  "《中华人民共和国政府采购法》第五条：任何单位和个人不得采用任何方式，阻挠和限制供应商自由进入本地区和本行业的政府采购市场",
  "《中华人民共和国招标投标法实施条例》第四十一条：禁止招标人与投标人串通投标",
  "《中华人民共和国政府采购法实施条例》第二十条：采购人或者采购代理机构不得以不合理的条件对供应商实行差别待遇或者歧视待遇",
]
entity = ["buyer_name", "winner_uscc"]
unit   = "buyer_name"
amount = "won_amount"

optional = ["procurement_lots.winner_name", "procurement_lots.award_amount", "procurement_lots.open_time"]

[params]
min_lots  = { type = "int", default = 5, min = 2, max = 100, doc = "同一采购人同一品目至少几个标段" }
min_share = { type = "float", default = 0.6, min = 0.3, max = 1.0, doc = "一家中标的标段占比下限" }
*/
WITH lots AS (
    SELECT buyer_name, category, lot_no, winner_uscc, winner_name, award_amount
    FROM procurement_lots
    WHERE winner_uscc IS NOT NULL AND (open_time IS NULL OR CAST(open_time AS DATE) <= $as_of)
),
per_category AS (
    SELECT buyer_name, category, count(*) AS lots
    FROM lots
    GROUP BY buyer_name, category
)
SELECT
    l.buyer_name,
    l.winner_uscc,
    min(l.winner_name)                                          AS winner_name,
    l.category,
    c.lots                                                      AS category_lots,
    count(*)                                                    AS won_lots,
    round(CAST(count(*) AS DOUBLE) / CAST(c.lots AS DOUBLE), 3) AS share,
    sum(l.award_amount)                                         AS won_amount
FROM lots l
JOIN per_category c ON c.buyer_name = l.buyer_name AND c.category = l.category
WHERE c.lots >= $min_lots
GROUP BY l.buyer_name, l.winner_uscc, l.category, c.lots
HAVING CAST(count(*) AS DOUBLE) / CAST(c.lots AS DOUBLE) >= $min_share
