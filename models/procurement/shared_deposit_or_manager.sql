/* searchlight
id          = "procurement.shared_deposit_or_manager"
catalog     = "M35"
title       = "不同投标人保证金同一账户转出或项目负责人为同一人"
title_en    = "Bid deposits from one account, or one project manager, across different bidders"
domain      = "procurement"
area        = "招标投标"
severity    = "high"
owner       = "党风政风监督室"
description = """
同一标段两个以上投标人的投标保证金从同一账户转出，或所报项目负责人(项目经理)为同一人的，
为串通投标疑点。线索主体为“标段|共同的账户或身份证号”。"""
basis = [
  "《中华人民共和国招标投标法实施条例》第四十条第(三)项、第(六)项：不同投标人的投标文件载明的项目管理成员为同一人；不同投标人的投标保证金从同一单位或者个人的账户转出，视为投标人相互串通投标",
  "《政府采购货物和服务招标投标管理办法》(财政部令第87号)第三十七条：视为投标人串通投标的情形",
]
entity = ["lot_no", "shared_value"]
unit   = "buyer_name"
optional = ["bids.bidder_name", "bids.deposit_account", "bids.manager_id", "procurement_lots", "procurement_lots.buyer_name", "procurement_lots.open_time"]
one_of   = [["bids.deposit_account", "bids.manager_id"]]
*/
WITH shared AS (
    SELECT lot_no, deposit_account AS shared_value, '保证金转出账户' AS kind
    FROM bids WHERE deposit_account IS NOT NULL
    GROUP BY lot_no, deposit_account HAVING min(bidder_uscc) <> max(bidder_uscc)
    UNION ALL
    SELECT lot_no, manager_id, '项目负责人身份证号'
    FROM bids WHERE manager_id IS NOT NULL
    GROUP BY lot_no, manager_id HAVING min(bidder_uscc) <> max(bidder_uscc)
)
SELECT
    s.lot_no,
    s.shared_value,
    s.kind,
    min(l.buyer_name)                          AS buyer_name,
    count(DISTINCT b.bidder_uscc)              AS bidders,
    array_to_string(array_sort(array_agg(DISTINCT b.bidder_name) FILTER (WHERE b.bidder_name IS NOT NULL)), '、') AS bidder_names
FROM shared s
JOIN bids b ON b.lot_no = s.lot_no
           AND s.shared_value = CASE WHEN s.kind = '保证金转出账户' THEN b.deposit_account ELSE b.manager_id END
LEFT JOIN procurement_lots l ON l.lot_no = s.lot_no
WHERE l.open_time IS NULL OR CAST(l.open_time AS DATE) <= $as_of
GROUP BY s.lot_no, s.shared_value, s.kind
