/* searchlight
id          = "relief.paid_to_another_account"
catalog     = "M09"
title       = "低保金发放至非本户人员账户(代领、截留)"
title_en    = "Subsistence allowance paid into an account held by someone outside the household"
domain      = "relief"
area        = "低保"
severity    = "high"
owner       = "民生领域监督检查室"
description = """
低保发放明细的收款账户户名既不是户主，也不是该户任何家庭成员的，为代领或截留疑点；按账户归集，
列出涉及的家庭数、发放笔数和金额，账户户名与村干部同名同村的一并标出。同户成员代领(如配偶)不算。"""
basis = [
  "《社会救助暂行办法》(国务院令第649号)第十二条：最低生活保障金按月发给最低生活保障家庭",
  "《社会救助暂行办法》第六十六条：截留、挤占、挪用、私分社会救助资金、物资的，责令追回；对直接负责的主管人员和其他直接责任人员依法给予处分",
  "《财政部 民政部关于印发〈中央财政困难群众救助补助资金管理办法〉的通知》(财社〔2017〕58号)：补助资金原则上实行社会化发放，直接支付到救助对象个人账户",
]
entity = ["account"]
unit   = "town"
amount = "amount"

optional = ["relief_households", "relief_members", "officials", "officials.level", "officials.org_name", "officials.position", "relief_payments.town", "relief_payments.amount", "relief_payments.pay_date"]
one_of   = [["relief_households.head_name", "relief_members.member_name"]]

[params]
min_households = { type = "int", default = 1, min = 1, max = 100, doc = "同一账户代领的家庭数达到此数即列出" }

# An account's clue depends on the payments into that account only (and on the registers of
# names, which must be unchanged), and $as_of bounds pay_date only: a month's new payments (an
# `append = true` export) are checked for the accounts they touch. A new payment without an
# account computes the model in full.
[incremental]
table  = "relief_payments"
key    = "account"
output = "account"
as_of  = "pay_date"
*/
WITH names AS (
    SELECT household_id, head_name AS person_name FROM relief_households
    UNION
    SELECT household_id, member_name FROM relief_members
),
foreign_pay AS (
    SELECT p.*
    FROM relief_payments p
    WHERE p.account_name IS NOT NULL
      AND (p.pay_date IS NULL OR p.pay_date <= $as_of)
      AND NOT EXISTS (
          SELECT 1 FROM names n WHERE n.household_id = p.household_id AND n.person_name = p.account_name
      )
),
village_roles AS (
    SELECT name, array_to_string(array_sort(array_agg(DISTINCT coalesce(org_name, '') || coalesce(position, '村干部')) FILTER (WHERE coalesce(org_name, '') || coalesce(position, '村干部') IS NOT NULL)), '、') AS official_role
    FROM officials
    WHERE coalesce(level, '村级') = '村级'
    GROUP BY name
)
SELECT
    f.account,
    min(f.account_name)                              AS account_name,
    min(f.town)                                      AS town,
    count(DISTINCT f.household_id)                   AS households,
    array_to_string(array_sort(array_agg(DISTINCT f.household_id) FILTER (WHERE f.household_id IS NOT NULL)), '、') AS household_ids,
    count(*)                                         AS payments,
    sum(f.amount)                                    AS amount,
    min(f.pay_date)                                  AS first_paid,
    max(f.pay_date)                                  AS last_paid,
    min(r.official_role)                             AS official_role,
    -- without the members' names only the heads' are compared: the clue says so
    min(CASE WHEN k.members = 0 THEN '仅与户主姓名比对(未提供家庭成员数据)' ELSE '与户主及家庭成员姓名比对' END) AS compared_with
FROM foreign_pay f
LEFT JOIN village_roles r ON r.name = f.account_name
CROSS JOIN (SELECT count(*) AS members FROM relief_members) k
GROUP BY f.account
HAVING count(DISTINCT f.household_id) >= $min_households
