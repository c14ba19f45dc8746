/* searchlight
id          = "procurement.supplier_linked_to_official_kin"
catalog     = "M39"
title       = "供应商由采购单位领导干部近亲属开办或持股"
title_en    = "Supplier run or owned by a relative of an official of the buying unit"
domain      = "procurement"
area        = "利益输送"
severity    = "high"
owner       = "党风政风监督室"
description = """
采购合同与领导干部近亲属、市场主体登记比对：供应商的法定代表人、股东或主要人员是采购单位干部的近亲属
(按身份证号匹配，不按姓名)，为利用职权为亲属经营活动谋利、未回避的疑点。线索主体为“合同|亲属身份证号”。"""
basis = [
  "《中华人民共和国政府采购法》第十二条：在政府采购活动中，采购人员及相关人员与供应商有利害关系的，必须回避",
  "《中华人民共和国政府采购法实施条例》第九条：采购人员与供应商的法定代表人或者负责人有夫妻、直系血亲、三代以内旁系血亲或者近姻亲关系的，应当回避",
  "《中国共产党纪律处分条例》(2023年修订)：利用职权或者职务上的影响为配偶、子女及其配偶等亲属和其他特定关系人经营活动谋取利益的处分",
]
entity = ["contract_no", "relative_id"]
unit   = "buyer_name"
amount = "amount"
optional = ["contracts.amount", "contracts.sign_date", "contracts.supplier_name", "official_relatives.relative_name", "official_relatives.relation", "officials.name", "officials.position", "enterprises", "shareholders", "key_persons", "key_persons.position"]
one_of   = [["enterprises.legal_rep_id", "shareholders.holder_id", "key_persons.person_id"]]
*/
WITH people AS (
    SELECT uscc, legal_rep_id AS person_id, '法定代表人' AS role FROM enterprises
    UNION ALL
    SELECT uscc, holder_id, '股东' FROM shareholders
    UNION ALL
    SELECT uscc, person_id, coalesce(position, '主要人员') FROM key_persons
),
-- relatives who run, own or manage a firm: few rows, so they lead the joins (contracts joined
-- first to every official of the buying unit multiply into every contract × official)
kin_firms AS (
    SELECT r.official_id, r.relative_id, r.relative_name, r.relation, p.uscc, p.role
    FROM official_relatives r
    JOIN people p ON p.person_id = r.relative_id
)
SELECT
    c.contract_no,
    k.relative_id,
    k.relative_name,
    k.relation,
    o.name                                   AS official_name,
    o.position                               AS official_position,
    c.buyer_name,
    c.supplier_name,
    c.supplier_uscc,
    array_to_string(array_sort(array_agg(DISTINCT k.role) FILTER (WHERE k.role IS NOT NULL)), '、') AS roles,
    c.amount,
    c.sign_date
FROM kin_firms k
JOIN officials o  ON o.id_no = k.official_id
JOIN contracts c  ON c.buyer_name = o.org_name AND c.supplier_uscc = k.uscc
WHERE (c.sign_date IS NULL OR c.sign_date <= $as_of)
GROUP BY c.contract_no, k.relative_id, k.relative_name, k.relation, o.name, o.position, c.buyer_name,
         c.supplier_name, c.supplier_uscc, c.amount, c.sign_date
