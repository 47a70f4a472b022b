#!/usr/bin/env python3
"""Random ABAC pairs: how many `iamprove diff` decides (issue 13 item 1).

  scripts/abac-pairs.py BIN N SEED

Builds N random identity policies from real ABAC shapes (tag equals tag, `StringLike` with a
variable and a wildcard, `${aws:username}` home folders and IAM self-service, variables in
resource paths, defaults, `ForAllValues` tag keys, `Deny` statements), mutates each once, and
runs `BIN diff` on both orders (2N diffs, `--timeout 20`). Prints every pair that is not decided
(`unknown` or an error) with the solver's reason, then `total T undecided U`. Findings are
replayed by `diff` itself. Deterministic for a seed.
"""
import json,random,subprocess,sys,os,tempfile
B=sys.argv[1]; N=int(sys.argv[2]); seed=int(sys.argv[3])
R=random.Random(seed)
TMP=tempfile.mkdtemp(prefix='abac-pairs-'); OLD=os.path.join(TMP,'old.json'); NEW=os.path.join(TMP,'new.json')
acts=["iam:PassRole","sts:TagSession","s3:GetObject","s3:PutObject","s3:ListBucket","ec2:StartInstances","ec2:TerminateInstances","iam:ChangePassword","iam:CreateAccessKey","secretsmanager:GetSecretValue","dynamodb:GetItem","sts:AssumeRole","ec2:CreateTags","kms:Decrypt","s3:*","ec2:*"]
ress=["*","arn:aws:s3:::corp/home/${aws:username}/*","arn:aws:s3:::corp/home/*","arn:aws:s3:::corp/${aws:PrincipalTag/team}/*","arn:aws:s3:::${aws:PrincipalTag/team}-data/*","arn:aws:s3:::corp","arn:aws:iam::*:user/${aws:username}","arn:aws:iam::*:user/*","arn:aws:dynamodb:*:*:table/${aws:PrincipalTag/table}","arn:aws:dynamodb:*:*:table/*","arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/team}/*","arn:aws:iam::*:role/${aws:PrincipalTag/team}-*","arn:aws:s3:::corp/${aws:PrincipalTag/team, 'shared'}/*","arn:aws:iam::*:role/${aws:PrincipalTag/team}/*","arn:aws:s3:::corp/${aws:userid}/*","arn:aws:s3:::corp/${aws:PrincipalTag/team}/${aws:username}/*","arn:aws:ec2:*:*:instance/*"]
conds=[
 None,
 {"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}},
 {"StringLike":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}*"}},
 {"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}},
 {"StringEquals":{"aws:ResourceTag/owner":"${aws:userid}"}},
 {"StringNotEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}},
 {"StringEquals":{"aws:RequestTag/team":"${aws:PrincipalTag/team}"},"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}},
 {"StringLike":{"s3:prefix":["home/${aws:username}/*","home/${aws:username}"]}},
 {"StringLike":{"s3:prefix":["${aws:PrincipalTag/team}/*"]}},
 {"StringEquals":{"aws:PrincipalTag/team":"${aws:ResourceTag/team}","aws:ResourceTag/env":"${aws:PrincipalTag/env}"}},
 {"StringEquals":{"sts:RoleSessionName":"${aws:username}"}},
 {"StringEquals":{"aws:ResourceAccount":"${aws:PrincipalAccount}"}},
 {"StringEqualsIfExists":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}},
 {"Null":{"aws:PrincipalTag/team":"false"},"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}},
 {"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${aws:PrincipalTag/tenant}"]}},
 {"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team, 'none'}"}},
 {"StringLike":{"aws:ResourceTag/project":"${aws:PrincipalTag/team}-*"}},
 {"ArnLike":{"aws:SourceArn":"arn:aws:s3:::${aws:PrincipalTag/bucket}"}},
 {"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:role/${aws:PrincipalTag/role}"}},
 {"StringLike":{"aws:userid":"AIDA*:${aws:username}"}},
 {"ForAnyValue:StringLike":{"aws:TagKeys":["${aws:PrincipalTag/team}-*"]}},
 {"StringEqualsIgnoreCase":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}},
 {"StringNotLikeIfExists":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}*"}},
 {"StringEquals":{"iam:PassedToService":"${aws:PrincipalTag/service}.amazonaws.com"}},
 {"StringEquals":{"aws:SourceIdentity":"${aws:username}"}},
 {"StringLike":{"s3:prefix":["","${aws:username}/*"]},"StringEquals":{"s3:delimiter":"/"}},
]
def stmt():
    s={"Effect":R.choice(["Allow"]*4+["Deny"]),"Action":R.sample(acts,R.randint(1,3)),"Resource":R.choice(ress)}
    c=R.choice(conds)
    if c: s["Condition"]=c
    return s
def pol(): 
    st=[stmt() for _ in range(R.randint(1,3))]
    if all(s["Effect"]=="Deny" for s in st): st[0]["Effect"]="Allow"
    return {"Version":"2012-10-17","Statement":st}
def mutate(p):
    q=json.loads(json.dumps(p)); s=R.choice(q["Statement"])
    k=R.randint(0,3)
    if k==0: s["Resource"]=R.choice(ress)
    elif k==1:
        c=R.choice(conds)
        if c: s["Condition"]=c
        else: s.pop("Condition",None)
    elif k==2: s["Action"]=R.sample(acts,R.randint(1,3))
    else: q["Statement"].append(stmt())
    return q
unk=0; tot=0
for i in range(N):
    a=pol(); b=mutate(a)
    for (o,n) in [(a,b),(b,a)]:
        open(OLD,'w').write(json.dumps(o)); open(NEW,'w').write(json.dumps(n))
        r=subprocess.run([B,'diff',OLD,NEW,'--format','json','--timeout','20'],capture_output=True,text=True)
        tot+=1
        try: d=json.loads(r.stdout); v=d['verdict']
        except Exception: d={}; v='ERR rc=%d %s'%(r.returncode,r.stderr[:200])
        if v not in ('widened','no_widening'):
            unk+=1
            why=[x[:160] for x in d.get('notes',[]) if 'gave up' in x][-1:] if v=='unknown' else ''
            print('UNDECIDED',v,why,json.dumps(o),'||',json.dumps(n),flush=True)
print('total',tot,'undecided',unk)
