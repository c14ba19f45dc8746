/* searchlight
id          = "procurement.professional_loser"
catalog     = "M37"
title       = "“陪标专业户”：投标次数异常多却从不中标"
title_en    = "Professional loser: bids far more often than peers and never wins"
domain      = "procurement"
area        = "招标投标"
severity    = "medium"
owner       = "党风政风监督室"
description = """
投标记录中，一家投标人的投标次数超过全体投标人投标次数的 IQR 上界(Q3 + k·IQR，Hyndman–Fan 第8类分位数)
且不少于最低次数，却一次未中标的，为长期陪标、配合围标的疑点(参照开放合同红旗指标 R025 的方法)。
列出与其共同投标次数最多的中标人。"""
basis = [
  "《中华人民共和国招标投标法》第三十二条：投标人不得相互串通投标报价，不得排挤其他投标人的公平竞争",
  "《中华人民共和国招标投标法实施条例》第三十九条：禁止投标人相互串通投标",
  "《政府采购货物和服务招标投标管理办法》(财政部令第87号)第三十七条：视为投标人串通投标的情形",
]
entity = ["bidder_uscc"]
unit   = "bidder_name"

optional = ["bids.bidder_name", "bids.bid_time"]

[params]
fence_k  = { type = "float", default = 1.5, min = 0.5, max = 5.0, doc = "IQR 上界系数 k" }
min_bids = { type = "int", default = 5, min = 2, max = 100, doc = "至少投标几次" }
*/
WITH entries AS (
    -- one row per bidder and lot, won or not
    SELECT bidder_uscc, lot_no, min(bidder_name) AS bidder_name, max(CASE WHEN is_winner THEN 1 ELSE 0 END) AS won
    FROM bids
    WHERE bid_time IS NULL OR CAST(bid_time AS DATE) <= $as_of
    GROUP BY bidder_uscc, lot_no
),
counts AS (
    SELECT bidder_uscc, min(bidder_name) AS bidder_name, count(*) AS bids, sum(won) AS wins
    FROM entries
    GROUP BY bidder_uscc
),
-- the fence over every bidder's count, beside each count: one pass over the bids, where a
-- separate fence CTE made DataFusion compute the entries and the counts again
scored AS (
    SELECT bidder_uscc, bidder_name, bids, wins, iqr_upper_fence(bids, $fence_k, 8) OVER () AS upper
    FROM counts
),
losers AS (
    SELECT bidder_uscc, bidder_name, bids, wins, upper
    FROM scored
    WHERE bids > upper
      AND bids >= $min_bids
      AND wins = 0
),
loser_lots AS (
    -- the lots each loser bid on, from the bids themselves (the few losers filter the scan);
    -- the losers are named once in the query, so DataFusion computes them once
    SELECT DISTINCT x.bidder_uscc, x.bidder_name, x.bids, x.wins, x.upper, b.lot_no
    FROM losers x
    JOIN bids b ON b.bidder_uscc = x.bidder_uscc
    WHERE b.bid_time IS NULL OR CAST(b.bid_time AS DATE) <= $as_of
),
partners AS (
    -- who won the lots a loser bid on, and how often (a lot without a winner leaves a row
    -- without one, which the list below skips)
    SELECT l.bidder_uscc, l.bidder_name, l.bids, l.wins, l.upper, w.bidder_name AS winner, count(w.lot_no) AS together
    FROM loser_lots l
    LEFT JOIN bids w ON w.lot_no = l.lot_no AND w.is_winner
    GROUP BY l.bidder_uscc, l.bidder_name, l.bids, l.wins, l.upper, w.bidder_name
)
SELECT
    bidder_uscc,
    bidder_name,
    bids,
    wins,
    round(upper, 2)                                                           AS fence,
    string_agg(winner || '×' || CAST(together AS VARCHAR), '、' ORDER BY together DESC, winner) AS winners_alongside
FROM partners
GROUP BY bidder_uscc, bidder_name, bids, wins, upper
