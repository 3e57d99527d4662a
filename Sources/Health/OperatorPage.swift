/// The operator's page: one self-contained document, HTML, CSS and script inline.
///
/// The appliance has no internet and no build step, so nothing is fetched from elsewhere and the
/// plots are our own few lines of canvas drawing rather than a vendored library: six line plots
/// with marks need no more. Dark by default (a dark room, a stage), one column on a phone. It reads
/// `/history` once, then follows `/events`; actions post to `/services/<name>/<action>` after a
/// confirmation, with the `X-Marlise-Action` header ``ActionPolicy`` asks for.
enum OperatorPage {
    static let html = #"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width,initial-scale=1">
        <title>Marlise</title>
        <style>
        :root{--bg:#111;--fg:#ddd;--dim:#888;--line:#333;--ok:#3c6;--warn:#fb3;--bad:#f55;--off:#777}
        @media (prefers-color-scheme:light){:root{--bg:#fafafa;--fg:#222;--dim:#666;--line:#ddd;--ok:#182;--warn:#a60;--bad:#c22}}
        body{margin:0;padding:.6rem;background:var(--bg);color:var(--fg);font:15px/1.35 system-ui,sans-serif}
        h1{font-size:1.2rem;margin:.2rem 0 .6rem}h2{font-size:1rem;margin:1rem 0 .4rem;color:var(--dim)}
        #status{padding:.1rem .5rem;border-radius:.3rem;font-weight:600}
        #live{color:var(--dim);font-size:.85rem;margin-left:.5rem}
        .scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}td,th{padding:.3rem .4rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
        th{color:var(--dim);font-weight:500;font-size:.85rem}
        .state{font-weight:600}.state::before{content:"\25CF ";}
        .healthy{color:var(--ok)}.starting,.stopping,.degraded{color:var(--warn)}.unhealthy,.failed{color:var(--bad)}.stopped,.absent{color:var(--off)}
        button{background:transparent;color:var(--fg);border:1px solid var(--dim);border-radius:.3rem;padding:.25rem .5rem;margin:.1rem;font:inherit;font-size:.85rem}
        .plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:.6rem}
        figure{margin:0;border:1px solid var(--line);border-radius:.3rem;padding:.3rem}
        figcaption{font-size:.85rem;color:var(--dim)}canvas{width:100%;height:140px;display:block}
        pre{margin:0;max-height:14rem;overflow:auto;font-size:.78rem;white-space:pre-wrap;word-break:break-all}
        .err{color:var(--bad)}details{margin:.3rem 0}summary{cursor:pointer}
        @media (max-width:640px){.wide{display:none}td,th{padding:.25rem .2rem}}
        </style></head><body>
        <h1>Marlise <span id="status">…</span><span id="live">connecting</span></h1>
        <div class="scroll"><table><thead><tr><th>Service</th><th>State</th><th>PID</th><th>Up</th><th>Restarts</th>
        <th class="wide">Last exit</th><th class="wide">Probe</th><th class="wide">Message</th><th></th></tr></thead>
        <tbody id="rows"></tbody></table></div>
        <h2>Last 15 minutes</h2>
        <div class="plots">
        <figure><figcaption>JACK DSP load (%)</figcaption><canvas id="dsp"></canvas></figure>
        <figure><figcaption>Xruns per sample</figcaption><canvas id="xruns"></canvas></figure>
        <figure><figcaption>CPU per service (%) · restarts marked</figcaption><canvas id="cpu"></canvas></figure>
        <figure><figcaption>Resident memory per service (MiB)</figcaption><canvas id="rss"></canvas></figure>
        <figure><figcaption>Session RPC requests per second</figcaption><canvas id="rpc"></canvas></figure>
        <figure><figcaption>Session RPC latency, p50 and p95 (ms)</figcaption><canvas id="latency"></canvas></figure>
        </div>
        <h2>Last 24 hours, one sample a minute</h2>
        <div class="plots"><figure><figcaption>Resident memory (MiB) · restarts marked</figcaption><canvas id="day"></canvas></figure></div>
        <h2>Logs</h2><div id="logs"></div>
        <script>
        "use strict";
        const $=i=>document.getElementById(i),PAL=["#4af","#f6c","#fd4","#6e8","#c8f","#f84","#8df","#aaa"];
        let recent=[],coarse=[],interval=2,names=[];
        const cur=()=>recent.length?recent[recent.length-1].t:Date.now()/1e3;
        function el(tag,text,cls){const e=document.createElement(tag);if(text!=null)e.textContent=text;if(cls)e.className=cls;return e}
        function dur(s){if(s==null)return"–";s=Math.floor(s);const d=Math.floor(s/86400),h=Math.floor(s%86400/3600),m=Math.floor(s%3600/60);
         return d?d+"d "+h+"h":h?h+"h "+m+"m":m?m+"m "+s%60+"s":s+"s"}
        function exitText(x){if(!x)return"–";const w=x.signal||("code "+x.code);return w+", "+dur((Date.now()-Date.parse(x.at))/1e3)+" ago"}
        function act(name,action){if(!confirm(action+" "+name+"?"))return;
         fetch("/services/"+encodeURIComponent(name)+"/"+action,{method:"POST",headers:{"X-Marlise-Action":"1"}})
          .then(r=>r.ok?null:r.json().then(j=>alert(action+" "+name+": "+(j.error||r.status)))).catch(e=>alert(e))}
        function rows(h){const st=$("status");st.textContent=h.status;st.className=h.status;
         names=h.services.map(s=>s.name);const body=$("rows");body.replaceChildren();
         for(const s of h.services){const tr=el("tr");tr.dataset.service=s.name;tr.dataset.state=s.state;
          tr.append(el("td",s.name),el("td",s.state,"state "+s.state),el("td",s.pid??"–"),el("td",dur(s.uptime_s)),el("td",s.restarts),
           el("td",exitText(s.last_exit),"wide"),el("td",s.probe?s.probe.latency_ms.toFixed(1)+" ms":"–","wide"),el("td",s.message||"","wide"));
          const a=el("td");for(const x of["restart","stop","start"]){const b=el("button",x);b.onclick=()=>act(s.name,x);a.append(b)}
          tr.append(a);body.append(tr)}}
        function series(samples,f){return names.map((n,i)=>({name:n,color:PAL[i%PAL.length],pts:samples.map((s,j)=>[s.t,f(s,n,j,samples)]).filter(p=>p[1]!=null)}))}
        function restarts(samples){const m=[];for(let j=1;j<samples.length;j++)for(const n in samples[j].s){const a=samples[j-1].s[n],b=samples[j].s[n];if(a&&b&&b[3]>a[3])m.push(samples[j].t)}return m}
        function plot(id,lines,marks,span,fixedMax){const c=$(id),r=devicePixelRatio||1,W=c.clientWidth*r,H=c.clientHeight*r;c.width=W;c.height=H;
         const g=c.getContext("2d"),now=cur(),t0=now-span,css=getComputedStyle(document.body);let max=fixedMax||0,n=0;
         for(const l of lines)for(const p of l.pts){if(!fixedMax)max=Math.max(max,p[1]);n++}max=max||1;
         const x=t=>(t-t0)/span*W,y=v=>H-4*r-(v/max)*(H-18*r);g.font=11*r+"px sans-serif";g.fillStyle=css.color;
         g.strokeStyle=css.getPropertyValue("--line");g.beginPath();g.moveTo(0,y(0));g.lineTo(W,y(0));g.stroke();
         g.fillText(max>=10?max.toFixed(0):max.toPrecision(2),2*r,11*r);g.strokeStyle=css.getPropertyValue("--bad");
         for(const t of marks){g.beginPath();g.moveTo(x(t),0);g.lineTo(x(t),H);g.stroke()}
         let k=0;for(const l of lines){g.strokeStyle=l.color;g.lineWidth=1.5*r;g.beginPath();let first=true;
          for(const p of l.pts){if(p[0]<t0)continue;first?g.moveTo(x(p[0]),y(p[1])):g.lineTo(x(p[0]),y(p[1]));first=false}g.stroke();
          if(lines.length>1){g.fillStyle=l.color;g.fillText(l.name,W-90*r,(12+12*k++)*r)}}
         c.dataset.points=n}
        function cpu(s,n,j,all){if(!j)return null;const a=all[j-1].s[n],b=s.s[n];if(!a||!b||a[1]==null||b[1]==null||b[1]<a[1])return null;return(b[1]-a[1])/(s.t-all[j-1].t)*100}
        const rss=(s,n)=>s.s[n]&&s.s[n][2]!=null?s.s[n][2]/1048576:null,at=(k,m)=>(s,n)=>s.s[n]&&s.s[n][k]!=null?s.s[n][k]*m:null;
        function lat(){const q=[[6,"p50"],[7,"p95"]];return series(recent,at(6,1e3)).flatMap((l,i)=>q.map(([k,w],j)=>({name:l.name+" "+w,color:PAL[(i+3*j)%PAL.length],pts:series(recent,at(k,1e3))[i].pts}))).filter(l=>l.pts.length)}
        function draw(){const one=c=>[{name:"",color:PAL[0],pts:c}];
         plot("dsp",one(recent.filter(s=>s.dsp!=null).map(s=>[s.t,s.dsp*100])),[],900,100);
         plot("xruns",one(recent.slice(1).map((s,j)=>[s.t,s.xruns!=null&&recent[j].xruns!=null?Math.max(0,s.xruns-recent[j].xruns):null]).filter(p=>p[1]!=null)),[],900);
         plot("cpu",series(recent,cpu),restarts(recent),900);plot("rss",series(recent,rss),restarts(recent),900);
         plot("rpc",series(recent,at(5,1)).filter(l=>l.pts.length),restarts(recent),900);plot("latency",lat(),restarts(recent),900);
         plot("day",series(coarse,rss),restarts(coarse),86400)}
        function logLines(logs){for(const n in logs){let pre=$("log-"+n);if(!pre){const d=el("details");d.open=true;d.append(el("summary",n));
          pre=el("pre");pre.id="log-"+n;d.append(pre);$("logs").append(d)}const end=pre.scrollTop+pre.clientHeight>=pre.scrollHeight-4;
          for(const l of logs[n])pre.append(el("div",l,/ stderr /.test(l)?"err":null));while(pre.childNodes.length>200)pre.firstChild.remove();if(end)pre.scrollTop=pre.scrollHeight}}
        function onSample(e){const d=JSON.parse(e.data);rows(d.health);const s=d.sample;
         if(s&&(!recent.length||s.t>cur())){recent.push(s);while(recent.length&&recent[0].t<s.t-900)recent.shift();
          if(!coarse.length||s.t-coarse[coarse.length-1].t>=60)coarse.push(s)}
         logLines(d.logs);draw();$("live").textContent="live · "+new Date().toLocaleTimeString()}
        function follow(){const es=new EventSource("/events");es.addEventListener("sample",onSample);es.onerror=()=>{$("live").textContent="reconnecting…"}}
        fetch("/history").then(r=>r.json()).then(h=>{interval=h.interval_s;recent=h.recent;coarse=h.coarse;logLines(h.logs);
         return fetch("/health").then(r=>r.json())}).then(h=>{rows(h);draw();follow()}).catch(e=>{$("live").textContent="error: "+e;follow()});
        addEventListener("resize",draw);
        </script></body></html>
        """#
}
