/* searchlight
id          = "procurement.uniform_bid_prices"
catalog     = "M36"
title       = "同一标段投标报价异常接近或呈等差排列"
title_en    = "Bid prices in a lot nearly identical or evenly spaced"
domain      = "procurement"
area        = "招标投标"
severity    = "medium"
owner       = "党风政风监督室"
description = """
同一标段三家以上投标人的报价，极差不超过平均报价的一定比例(异常一致)，或按报价排序后相邻差额几乎相等
(等差排列，相邻差额的变异系数很小)的，为投标报价呈规律性差异、串通投标的疑点。"""
basis = [
  "《中华人民共和国招标投标法实施条例》第四十条第(四)项：不同投标人的投标文件异常一致或者投标报价呈规律性差异，视为投标人相互串通投标",
  "《政府采购货物和服务招标投标管理办法》(财政部令第87号)第三十七条第(四)项：不同投标人的投标文件异常一致或者投标报价呈规律性差异",
]
entity = ["lot_no"]
unit   = "buyer_name"

optional = ["bids.bidder_name", "bids.bid_time", "procurement_lots", "procurement_lots.buyer_name"]

[params]
min_bidders = { type = "int", default = 3, min = 3, max = 20, doc = "至少几家投标" }
max_spread  = { type = "float", default = 0.005, min = 0.0, max = 0.1, doc = "极差/平均报价上限" }
max_gap_cv  = { type = "float", default = 0.01, min = 0.0, max = 0.2, doc = "相邻差额变异系数上限(等差)" }
*/
WITH priced AS (
    SELECT lot_no, bidder_name, CAST(bid_price AS DOUBLE) AS price,
           CAST(bid_price AS DOUBLE) - lag(CAST(bid_price AS DOUBLE)) OVER (PARTITION BY lot_no ORDER BY bid_price) AS gap
    FROM bids
    WHERE bid_price IS NOT NULL
      AND (bid_time IS NULL OR CAST(bid_time AS DATE) <= $as_of)
),
per_lot AS (
    SELECT lot_no, count(*) AS bidders, min(price) AS low, max(price) AS high, avg(price) AS mean,
           avg(gap) AS mean_gap, stddev_pop(gap) AS sd_gap,
           string_agg(coalesce(bidder_name, '?') || ':' || CAST(price AS VARCHAR), '、' ORDER BY price, bidder_name) AS prices
    FROM priced
    GROUP BY lot_no
)
SELECT
    p.lot_no,
    min(l.buyer_name)                                        AS buyer_name,
    p.bidders,
    p.prices,
    round((p.high - p.low) / p.mean, 5)                      AS spread,
    round(p.sd_gap / nullif(p.mean_gap, 0), 5)               AS gap_cv,
    CASE WHEN (p.high - p.low) / p.mean <= $max_spread THEN '报价异常接近' ELSE '报价等差排列' END AS finding
FROM per_lot p
LEFT JOIN procurement_lots l ON l.lot_no = p.lot_no
WHERE p.bidders >= $min_bidders
  AND p.mean > 0
  AND ((p.high - p.low) / p.mean <= $max_spread
       OR (p.mean_gap > 0 AND p.sd_gap / p.mean_gap <= $max_gap_cv))
GROUP BY p.lot_no, p.bidders, p.prices, p.high, p.low, p.mean, p.sd_gap, p.mean_gap
