/* searchlight
id          = "procurement.related_bidders"
catalog     = "M34"
title       = "同一标段投标人存在关联关系"
title_en    = "Related bidders in the same lot"
domain      = "procurement"
area        = "招标投标"
severity    = "high"
owner       = "党风政风监督室"
description = """
投标记录与市场主体登记比对：同一标段两个以上投标人的法定代表人、股东或主要人员为同一人的，
为串通投标(围标)疑点；线索主体为“标段|关联人身份证号”。同一人关联的企业分别投不同标段的不算。"""
basis = [
  "《中华人民共和国招标投标法实施条例》第三十四条：单位负责人为同一人或者存在控股、管理关系的不同单位，不得参加同一标段投标或者未划分标段的同一招标项目投标",
  "《中华人民共和国招标投标法实施条例》第四十条：不同投标人的投标文件由同一单位或者个人编制，视为投标人相互串通投标",
  "《政府采购货物和服务招标投标管理办法》(财政部令第87号)第三十七条：视为投标人串通投标的情形",
]
entity = ["lot_no", "person_id"]
unit   = "buyer_name"
optional = ["bids.bidder_name", "procurement_lots", "procurement_lots.buyer_name", "procurement_lots.open_time", "enterprises", "shareholders", "key_persons", "enterprises.legal_rep", "shareholders.holder_name", "key_persons.name", "key_persons.position"]
one_of   = [["enterprises.legal_rep_id", "shareholders.holder_id", "key_persons.person_id"]]
*/
WITH people AS (
    SELECT uscc, legal_rep_id AS person_id, legal_rep AS person_name, '法定代表人' AS role FROM enterprises
    UNION ALL
    SELECT uscc, holder_id, holder_name, '股东' FROM shareholders
    UNION ALL
    SELECT uscc, person_id, name, coalesce(position, '主要人员') FROM key_persons
),
linked AS (
    SELECT b.lot_no, b.bidder_uscc, b.bidder_name, p.person_id, p.person_name, p.role
    FROM bids b
    JOIN people p ON p.uscc = b.bidder_uscc
    WHERE p.person_id IS NOT NULL
),
shared AS (
    SELECT lot_no, person_id FROM linked GROUP BY lot_no, person_id HAVING min(bidder_uscc) <> max(bidder_uscc)
)
SELECT
    l.lot_no,
    l.person_id,
    min(l.person_name)                                            AS person_name,
    min(lot.buyer_name)                                           AS buyer_name,
    count(DISTINCT l.bidder_uscc)                                 AS bidders,
    array_to_string(array_sort(array_agg(DISTINCT l.bidder_name || '(' || l.role || ')') FILTER (WHERE l.bidder_name || '(' || l.role || ')' IS NOT NULL)), '、') AS links
FROM linked l
JOIN shared s ON s.lot_no = l.lot_no AND s.person_id = l.person_id
LEFT JOIN procurement_lots lot ON lot.lot_no = l.lot_no
WHERE lot.open_time IS NULL OR CAST(lot.open_time AS DATE) <= $as_of
GROUP BY l.lot_no, l.person_id
